"""The package's one-way architecture (issue 11; README "Architecture").

Static checks over the source (ast, no imports): no import cycle among keras_inpaint's modules, no
function-level import of the package inside it (the old way of dodging a cycle), each module imports only
from its own layer or the ones below it, and no capability probing (`hasattr`, `getattr` of a named attribute,
signature or code inspection) anywhere in the package. A dynamic check: one `train.py` run resolves its
configuration once (its task and its trainer options once), makes its strategy once, builds each input pipeline
once, never re-reads its own config.json and exports into its own run directory, leaving saved_models/ untouched.
"""
import ast
import json
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "keras_inpaint"

# Layers from the bottom up; a module may import its own layer and the ones below, never above. Members are
# module paths below keras_inpaint (a package's members included), `*` standing for one name; where several
# match, the longest wins: a family's `models/<family>/entry.py` (its registry entries) is two floors above its
# `network.py` (issue 35).
LAYERS = [
    ("base", {"precision", "startup", "data", "corruptions", "losses", "metrics", "models", "classical",
              "artifact"}),                        # artifact: reading an export (card, signatures, network)
    ("prediction", {"prediction"}),                # running an export: below tasks and the registry (issue 35)
    ("latent search", {"latent_inpainting"}),      # the z-search algorithm the latent tasks wrap
    ("tasks", {"tasks"}),
    ("model spec", {"model_spec"}),                # what an entry is: ModelSpec, the option dataclasses
    ("registry entries", {"models.*.entry"}),      # each family's entries, registered where defined
    ("registry", {"registry"}),                    # every family imported: get, REGISTRY
    ("training, evaluation, export", {"training", "evaluation", "exporting", "portable"}),
    ("entry points", {"cli"}),
]


def _module_name(path: pathlib.Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, ast.Module]:
    return {_module_name(p): ast.parse(p.read_text(), str(p)) for p in sorted(PACKAGE.rglob("*.py"))}


def _imported(module: str, node: ast.AST, known: set[str]) -> list[str]:
    """The keras_inpaint modules an Import/ImportFrom node names (`from keras_inpaint import data` -> data)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name.split(".")[0] == "keras_inpaint"]
    if node.level:                                   # relative import
        package = module.split(".")
        if not (PACKAGE / pathlib.Path(*package[1:]) / "__init__.py").exists():
            package = package[:-1]
        base = ".".join(package[:len(package) - node.level + 1] + ([node.module] if node.module else []))
    else:
        base = node.module or ""
    if base.split(".")[0] != "keras_inpaint":
        return []
    return [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]


def _graph() -> tuple[dict[str, set[str]], list[tuple[str, int, str]]]:
    """({module: modules it imports at any level}, [(module, line, target) of imports inside functions])."""
    modules = _modules()
    known = set(modules)
    graph, nested = {}, []
    for name, tree in modules.items():
        deps = set()
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                deps.update(t for t in _imported(name, node, known) if t != name)
        for func in ast.walk(tree):
            if isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for node in ast.walk(func):
                    if isinstance(node, (ast.Import, ast.ImportFrom)):
                        nested += [(name, node.lineno, t) for t in _imported(name, node, known)]
        graph[name] = deps
    return graph, nested


def _layer(module: str) -> int:
    parts = module.split(".")
    if len(parts) == 1:                              # the package's own __init__
        return 0
    matches = []                                     # (length of the member, layer)
    for i, (_, members) in enumerate(LAYERS):
        for member in members:
            pattern = member.split(".")
            if len(parts) - 1 >= len(pattern) and all(p in ("*", q) for p, q in zip(pattern, parts[1:])):
                matches.append((len(pattern), i))
    if not matches:
        raise AssertionError(f"{module} is in no layer of tests/test_architecture.py: add it to LAYERS")
    return max(matches)[1]


def test_the_graph_sees_known_edges():
    """Guards the checks below against a parser that finds nothing."""
    graph, _ = _graph()
    assert "keras_inpaint.tasks.base" in graph["keras_inpaint.tasks.inpainting"]
    assert "keras_inpaint.registry" in graph["keras_inpaint.training.config"]
    assert "keras_inpaint.models.lama.entry" in graph["keras_inpaint.registry"]
    assert "keras_inpaint.models.free_form.network" in graph["keras_inpaint.models.lama.network"]
    assert "keras_inpaint.data" in graph["keras_inpaint.training.run"]
    assert len(graph) > 30


def test_the_layers_of_a_family():
    """A family's network is at the bottom, its entry two floors up, between the tasks and the registry."""
    names = [name for name, _ in LAYERS]
    assert names[_layer("keras_inpaint.models.lama.network")] == names[_layer("keras_inpaint.models.lama")] == "base"
    assert names[_layer("keras_inpaint.models.layers")] == "base"
    assert names[_layer("keras_inpaint.models.lama.entry")] == "registry entries"
    assert names[_layer("keras_inpaint.training.config")] == "training, evaluation, export"


def test_no_import_cycle():
    graph, _ = _graph()
    state = {}                                       # 1: on the DFS stack, 2: done

    def visit(node, path):
        state[node] = 1
        for dep in sorted(graph.get(node, ())):
            if dep.startswith("keras_inpaint.") and dep.count(".") and dep in graph:
                # importing a package runs its __init__; `a.b` importing `a` is not a cycle through b
                if node.startswith(dep + "."):
                    continue
                if state.get(dep) == 1:
                    cycle = path[path.index(dep):] + [dep]
                    pytest.fail("import cycle: " + " -> ".join(cycle))
                if dep not in state:
                    visit(dep, path + [dep])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])


def test_no_function_level_import_of_the_package():
    _, nested = _graph()
    assert not nested, "function-level imports of keras_inpaint (import at the top instead): " + ", ".join(
        f"{m}:{line} -> {t}" for m, line, t in nested)


def test_imports_point_one_way():
    graph, _ = _graph()
    upward = [(m, d) for m, deps in graph.items() for d in deps
              if d in graph and d.count(".") and _layer(d) > _layer(m)]
    assert not upward, "imports pointing up the layers (README 'Architecture'): " + ", ".join(
        f"{m} -> {d} ({LAYERS[_layer(m)][0]} -> {LAYERS[_layer(d)][0]})" for m, d in upward)


# Capability probing (issue 35): what an object can do is declared (Task's class attributes, the training-model
# protocol of training/checkpoints.py, registry.Adversarial's fields, a signature's TensorSpec names), never
# guessed from its attributes, signature or code. Allowed: {(module, source of the call)} that is genuinely not
# capability probing, each with the reason. None so far.
PROBING_ALLOWED: dict[tuple[str, str], str] = {}


def _probes(tree: ast.Module) -> list[tuple[int, str]]:
    """(line, what) of each `hasattr(...)`, `getattr(x, "literal"...)`, `inspect.signature` (or another inspect
    of a callable's parameters) and `__code__` in a module."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id == "hasattr":
                found.append((node.lineno, "hasattr("))
            elif (node.func.id == "getattr" and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant)
                  and isinstance(node.args[1].value, str)):
                found.append((node.lineno, f"getattr(..., {node.args[1].value!r})"))
        if isinstance(node, ast.Attribute):
            if node.attr in ("__code__", "co_varnames", "co_argcount"):
                found.append((node.lineno, node.attr))
            if (isinstance(node.value, ast.Name) and node.value.id == "inspect"
                    and node.attr in ("signature", "getfullargspec", "getargspec", "Parameter")):
                found.append((node.lineno, f"inspect.{node.attr}"))
        if isinstance(node, ast.ImportFrom) and node.module == "inspect":
            found += [(node.lineno, f"from inspect import {a.name}") for a in node.names
                      if a.name in ("signature", "getfullargspec", "getargspec", "Parameter")]
    return found


def test_the_probe_finder_sees_probes():
    """Guards the check below against a finder that finds nothing."""
    tree = ast.parse("import inspect\nhasattr(t, 'x')\ngetattr(m, 'g', None)\ngetattr(c, name)\n"
                     "inspect.signature(f)\nf.__code__.co_varnames\n")
    assert sorted(what for _, what in _probes(tree)) == sorted(["hasattr(", "getattr(..., 'g')", "inspect.signature",
                                                                "co_varnames", "__code__"])


def test_no_capability_probing_in_the_package():
    """No `hasattr`, `getattr` of a literal attribute name, signature inspection or `__code__` in keras_inpaint/
    (tasks/base.py's rule, for every object): declare the capability instead."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        lines = path.read_text().splitlines()
        for line, what in _probes(ast.parse(path.read_text(), str(path))):
            module = _module_name(path)
            if (module, lines[line - 1].strip()) not in PROBING_ALLOWED:
                found.append(f"{path.relative_to(ROOT)}:{line}: {what}")
    assert not found, "capability probing (declare it instead; tests/test_architecture.py PROBING_ALLOWED " \
                      "for what is not probing): " + ", ".join(found)


COUNTING_TRAIN = r"""
import json, runpy, sys
from keras_inpaint import data, registry
from keras_inpaint.training import config, distribute

counts = {"resolve": 0, "task": 0, "config_json_reads": 0, "trainer_options": 0, "strategy": 0,
          "training_pipeline": 0, "sources": {}, "evaluate_batch_traces": 0}

def counting(name, f):
    def wrapper(*a, **k):
        counts[name] += 1
        return f(*a, **k)
    return wrapper

def counting_sources(f):
    def wrapper(dataset, split, *a, max_examples=None, **k):    # one key per source: split and size
        key = f"{split}[:{max_examples}]"
        counts["sources"][key] = counts["sources"].get(key, 0) + 1
        return f(dataset, split, *a, max_examples=max_examples, **k)
    return wrapper

config.RunConfig._filled = counting("resolve", config.RunConfig._filled)
def counting_task(f):
    def wrapper(*a, **k):
        task = counting("task", f)(*a, **k)    # its evaluate_batch runs only inside tf.function: one call per trace
        object.__setattr__(task, "evaluate_batch", counting("evaluate_batch_traces", task.evaluate_batch))
        return task
    return wrapper

registry.ModelSpec.task = counting_task(registry.ModelSpec.task)
registry.ModelSpec.resolve_trainer_options = counting("trainer_options", registry.ModelSpec.resolve_trainer_options)
config.RunConfig.load = staticmethod(counting("config_json_reads", config.RunConfig.load))
distribute.make_strategy = counting("strategy", distribute.make_strategy)
data.training_pipeline = counting("training_pipeline", data.training_pipeline)
data.patch_pipeline = counting("training_pipeline", data.patch_pipeline)
data.load_images = counting_sources(data.load_images)
sys.argv = ["train.py"] + sys.argv[1:]
try:
    runpy.run_path("train.py", run_name="__main__")
except SystemExit as e:
    if e.code not in (0, None):
        raise
print("COUNTS" + json.dumps(counts))
"""


def _files(root: pathlib.Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob("*") if p.is_file()}


def test_one_train_run_resolves_once_and_builds_each_input_once(tmp_path, tfds_dir):
    """`python train.py ...` of a GAN (train, test evaluation, export): one resolution of its configuration (one
    task, its trainer options resolved once, no config.json re-read), one strategy, and each input pipeline built
    once: the training source and stream, the validation images, the test images (issue 35); the task's metrics
    traced once for the per-epoch validation (4 images) and the test evaluation (8). Its export goes into
    the run directory and `saved_models/` stays untouched (no --export_dir)."""
    shipped = _files(ROOT / "saved_models")
    r = subprocess.run(
        [sys.executable, "-c", COUNTING_TRAIN, "--model=context_encoder_gan", "--dataset=cifar10",
         f"--data_dir={tfds_dir}", "--steps=2", "--batch_size=4", "--max_examples=16", "--val_examples=4",
         "--test_examples=8", f"--output_dir={tmp_path / 'run'}", "--no_download"],
        cwd=ROOT, capture_output=True, text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    counts = json.loads(r.stdout.split("COUNTS", 1)[1])
    assert counts == {"resolve": 1, "task": 1, "config_json_reads": 0, "trainer_options": 1, "strategy": 1,
                      "training_pipeline": 1, "sources": {"train[:16]": 1, "test[:4]": 1, "test[:8]": 1},
                      "evaluate_batch_traces": 1}, counts
    export = tmp_path / "run" / "export" / "context_encoder_gan" / "1"
    assert (export / "saved_model.pb").exists(), "the run exported nothing: the counts cover too little"
    assert f"SavedModel: {export}" in r.stdout and "--export_dir=saved_models" in r.stdout   # printed at the end
    assert _files(ROOT / "saved_models") == shipped
