"""Training throughput benchmark: images/second of the train step, of the input pipeline alone, peak memory,
per precision policy (float32 vs mixed_bfloat16 / mixed_float16, with the ratio).

  python benchmarks/throughput.py                                  # context_encoder, float32 and mixed_bfloat16
  python benchmarks/throughput.py --models=context_encoder --steps=300 --jit=both
  python benchmarks/throughput.py --models=all --precision=float32,mixed_bfloat16 --steps_per_execution=20
  python benchmarks/throughput.py --models=all --quick_runs     # wall time of each model's 10-step smoke run
  python benchmarks/throughput.py --models=all --parity --precision=float32,mixed_bfloat16   # fidelity parity
  python benchmarks/throughput.py --models=lsgan --onednn --steps=20   # where a step's time goes, per precision
  python benchmarks/throughput.py --photo=saved_models/ffdnet/1 --photo_size=4000x3000   # one big photo, as predict.py
  python benchmarks/throughput.py --sr_inference --models=imdn_x3,sr_autoencoder    # SR output megapixels/s
  python benchmarks/throughput.py --photo=EXPORT_OF_lama_ffc --photo_mask=brush:1600,1200,800,600   # inpainters

Each (model, jit_compile, precision) configuration runs in its own process so that the peak resident memory
(CPU) or peak GPU memory belongs to that configuration alone. The train step is timed on one real batch held in memory
(so the input pipeline does not limit it); the input pipeline is timed on the real dataset after one warm-up
pass has filled its cache. For GANs, the step is split into one discriminator update and the generator part
(timed with 1 and with 2 discriminator updates per step). Inference is the export signature's body (uint8
in and out, corruption and paste-back included) on a batch of training images: images/s and output
megapixels/s; for the z -> image priors (lsgan, dcgan) it is the latent (z-search) inpainter, timed at each
`--latent_iterations` count. Prints a table; `--json` also prints one JSON line per configuration.
The header names the CPU's best oneDNN instruction set for bfloat16 (AMX-BF16, AVX-512-BF16, or none): it is
what makes mixed_bfloat16 faster or slower than float32 on a CPU.
"""
import argparse
import json
import math
import os
import resource
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_DATA_DIR = os.path.join(ROOT, "..", "shared", "data", "tensorflow_datasets")
# The models' default datasets that have no offline copy in ../shared/data, and the stand-in of the same shape
# the benchmark uses instead (CelebA: the shared aligned CelebA faces).
OFFLINE_STAND_INS = {"celeb_a": "folder:" + os.path.join(ROOT, "..", "shared", "data", "faces", "celeba_img_align")}


def offline_dataset(default_dataset: str) -> str:
    """The dataset the benchmark reads for a model whose default is `default_dataset` (see OFFLINE_STAND_INS)."""
    return OFFLINE_STAND_INS.get(default_dataset, default_dataset)


def _seconds_per_step(model, ds, steps: int, warm: int) -> float:
    model.fit(ds, steps_per_epoch=warm, epochs=1, verbose=0)
    start = time.perf_counter()
    model.fit(ds, steps_per_epoch=steps, epochs=1, verbose=0)
    return (time.perf_counter() - start) / steps


def measure(model_id: str, jit: bool, steps: int, batch_size: int | None, data_dir: str,
            steps_per_execution: int, pipeline_batches: int, latent_iterations=(10, 100),
            dataset: str | None = None, policy: str = "float32", breakdown: bool = True) -> dict:
    import keras

    from keras_inpaint import precision

    keras.config.set_dtype_policy(precision.check(policy))   # this process measures one policy
    return _measure(model_id, jit, steps, batch_size, data_dir, steps_per_execution, pipeline_batches,
                    latent_iterations, dataset, policy, breakdown)


def _measure(model_id, jit, steps, batch_size, data_dir, steps_per_execution, pipeline_batches, latent_iterations,
             dataset, policy, breakdown) -> dict:
    import tensorflow as tf

    from keras_inpaint.training import run

    resolved, spec, task, images, pipeline = _setup(model_id, jit, batch_size, data_dir, steps_per_execution,
                                                    dataset, policy)
    config = resolved.config

    # Input pipeline alone: one pass to fill the cache, then time.
    n_images = int(images.reduce(0, lambda n, _: n + 1))
    it = iter(pipeline)
    for _ in range(math.ceil(n_images / config.trainer.batch_size) + 5):
        next(it)
    start = time.perf_counter()
    for _ in range(pipeline_batches):
        next(it)
    pipeline_ips = pipeline_batches * config.trainer.batch_size / (time.perf_counter() - start)

    # Train step on one real batch held in memory.
    model = run.build_training_model(spec, config, resolved.trainer_options)
    batch = next(it)
    ds = tf.data.Dataset.from_tensors(batch).repeat()
    warm = max(2 * steps_per_execution, 10)
    step_ips = config.trainer.batch_size / _seconds_per_step(model, ds, steps, warm)

    result = {}
    if spec.adversarial is not None and breakdown:
        # D/G breakdown from public options only: time a step with 1 and with 2 discriminator updates.
        times = {}
        for d in (1, 2):
            c = config.replace(trainer_options={"d_steps": d})
            times[d] = _seconds_per_step(run.build_training_model(spec, c), ds, steps, warm)
        d_ms = 1000 * max(times[2] - times[1], 0.0)
        result.update({"d_update_ms": round(d_ms, 1), "g_update_ms": round(1000 * times[1] - d_ms, 1),
                       "d_steps": resolved.trainer_options.get("d_steps", 1)})

    # photo models (crop "patches"): inference on one whole photo at its native size (481x321 for BSDS500)
    test_batch = next(iter(images.batch(1 if spec.crop == "patches" else min(config.trainer.batch_size, 16))))
    if task.latent_search:
        # z -> image priors: the exported inference is the latent (z) search; its cost grows with the
        # iteration count, so time the inpainter (centre hole, whole batch at once) at each count.
        inpainter = task.inpainter(run.inference_network(model))
        inpainter.inpaint(test_batch, iterations=1)                      # trace once (iterations is a tensor)
        per_count = {}
        for n in latent_iterations:
            start = time.perf_counter()
            inpainter.inpaint(test_batch, iterations=n)
            per_count[n] = int(test_batch.shape[0]) / (time.perf_counter() - start)
        result["inpainter_images_per_s"] = {str(n): round(v, 2) for n, v in per_count.items()}
        n = max(latent_iterations)
        result["inference_images_per_s"] = round(per_count[n], 2)
        result["inference_output_megapixels_per_s"] = round(per_count[n] * math.prod(spec.image_shape[:2]) / 1e6, 4)
        return _finish(result, model_id, jit, config, steps_per_execution, step_ips, pipeline_ips)

    # Inference through the export signature body (uint8 in, uint8 out, paste-back included); masked tasks get
    # a centre hole of half the side (the cost does not depend on the mask's content) of the images timed (a whole
    # photo for the photo models: lama_ffc)
    h, w = int(test_batch.shape[1]), int(test_batch.shape[2])
    hole = tf.pad(tf.ones((h // 2, w // 2, 1)), [[h // 4, h - h // 2 - h // 4], [w // 4, w - w // 2 - w // 4], [0, 0]])
    masks = (lambda x: [tf.repeat(hole[None], tf.shape(x)[0], 0)]) if task.takes_mask else (lambda x: [])
    if "noise_level" in [s.name for s in task.serving_signatures()["serving_default"][1]]:
        masks = lambda x: [tf.fill(tf.shape(x)[:1], 25.0)]   # noqa: E731  (non-blind denoisers: sigma 25)
    serve = tf.function(lambda x: task.serving_signatures()["serving_default"][0](
        run.inference_network(model), x, *masks(x)))
    out = serve(test_batch)["images"]
    start = time.perf_counter()
    for _ in range(10):
        out = serve(test_batch)["images"]
    dt = (time.perf_counter() - start) / 10
    result["inference_images_per_s"] = round(int(test_batch.shape[0]) / dt, 1)
    result["inference_output_megapixels_per_s"] = round(int(tf.size(out[..., 0])) / dt / 1e6, 2)
    return _finish(result, model_id, jit, config, steps_per_execution, step_ips, pipeline_ips)


def _setup(model_id, jit, batch_size, data_dir, steps_per_execution, dataset, policy):
    """The resolved run of `model_id` as `train.py` would make it: (the `Run`, spec, task, training images, batched
    training pipeline of seed 0)."""
    from keras_inpaint import data, registry
    from keras_inpaint.training import run

    dataset = dataset or offline_dataset(registry.get(model_id).default_dataset)
    resolved = run.resolve(run.RunConfig.of(model=model_id, dataset=dataset, data_dir=data_dir,
                                            batch_size=batch_size, jit_compile=jit, precision=policy,
                                            steps_per_execution=steps_per_execution))
    config, spec, task = resolved.config, resolved.spec, resolved.task
    images = data.load_images(config.data.dataset, "train", spec.image_shape[:2], spec.image_shape[2],
                              data_dir=config.data.data_dir, crop=spec.crop)
    return resolved, spec, task, images, run.training_stream(resolved, seed=0)


def _finish(result, model_id, jit, config, steps_per_execution, step_ips, pipeline_ips) -> dict:
    import tensorflow as tf

    if tf.config.list_physical_devices("GPU"):
        peak = tf.config.experimental.get_memory_info("GPU:0")["peak"] / 2**20
        where = "GPU"
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
        where = "RSS"
    return {**result, "model": model_id, "jit_compile": jit, "precision": config.trainer.precision,
            "batch_size": config.trainer.batch_size,
            "steps_per_execution": steps_per_execution, "train_images_per_s": round(step_ips, 1),
            "pipeline_images_per_s": round(pipeline_ips, 1), "pipeline_over_step": round(pipeline_ips / step_ips, 1),
            "peak_memory_mib": round(peak), "memory_kind": where, "dataset": config.data.dataset,
            "paper_steps": config.trainer.steps,
            "paper_schedule_hours": round(config.trainer.steps * config.trainer.batch_size / step_ips / 3600, 2)}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", default="context_encoder", help="comma-separated ids, or 'all'")
    p.add_argument("--jit", choices=["off", "on", "both"], default="off", help="jit_compile settings to time")
    p.add_argument("--precision", default="float32,mixed_bfloat16",
                   help="comma-separated dtype policies to time (float32, mixed_bfloat16, mixed_float16); the "
                        "table gives each one's training speed-up over float32")
    p.add_argument("--breakdown", action=argparse.BooleanOptionalAction, default=True,
                   help="GANs: also time steps with 1 and 2 discriminator updates (D / G update ms)")
    p.add_argument("--steps", type=int, default=300, help="timed training steps per configuration")
    p.add_argument("--batch_size", type=int, default=None, help="default: each model's paper batch size")
    p.add_argument("--steps_per_execution", type=int, default=1)
    p.add_argument("--pipeline_batches", type=int, default=500, help="timed input-pipeline batches")
    p.add_argument("--dataset", default=None, help="override every model's dataset (default: "
                   "the model's own, or its offline stand-in: CelebA -> ../shared/data/faces/celeba_img_align)")
    p.add_argument("--data_dir", default=os.environ.get("TFDS_DATA_DIR", DEFAULT_DATA_DIR))
    p.add_argument("--latent_iterations", default="10,100",
                   help="lsgan/dcgan: z-search iteration counts at which the inpainter's images/s is timed")
    p.add_argument("--json", action="store_true", help="also print one JSON line per configuration")
    p.add_argument("--quick_runs", action="store_true",
                   help="instead of throughput: time `train.py --model=ID --steps=10 --max_examples=512` (training, "
                        "validation, test evaluation and export; issue 15's bound: under 3 minutes each)")
    p.add_argument("--parity", action="store_true",
                   help="instead of throughput: train each model for --parity_steps with the same seed and data "
                        "under each --precision and compare the test PSNR / SSIM (issue 12: within 0.1 dB)")
    p.add_argument("--parity_steps", type=int, default=200, help="--parity: training iterations per run")
    p.add_argument("--parity_examples", type=int, default=2048,
                   help="--parity: training images (--max_examples) and, at most, test images per run")
    p.add_argument("--parity_seed", type=int, default=0,
                   help="--parity: the --seed of every run (repeat with another seed to see float32's own spread)")
    p.add_argument("--onednn", action="store_true",
                   help="instead of throughput: where a training step's time goes, per --precision: milliseconds "
                        "per step in each kind of oneDNN primitive (convolutions, matmuls, batch norm, reorders; "
                        "from ONEDNN_VERBOSE) and outside oneDNN (TensorFlow's own kernels: casts, element-wise "
                        "ops, optimizer updates), which bounds the mixed-precision speed-up (Amdahl)")
    p.add_argument("--photo", default=None,
                   help="instead of throughput: time predict.py's Predictor on one photo of --photo_size with this "
                        "export (a Set14 photo resized up, white Gaussian noise of sigma 25 for denoisers, the "
                        "--photo_mask hole for inpainters), in a fresh process: seconds, output megapixels/s and "
                        "peak RSS")
    p.add_argument("--photo_size", default="4000x3000", help="--photo: WIDTHxHEIGHT of the input photo")
    p.add_argument("--photo_mask", default=None, help="--photo with an inpainter: the hole, as predict.py --mask "
                   "(default: brush strokes in a centred box of a fifth of the photo's sides, 'brush:x,y,w,h')")
    p.add_argument("--tile", type=int, default=None, help="--photo: Predictor tile side (default: predict.py's)")
    p.add_argument("--sr_inference", action="store_true",
                   help="instead of throughput: the super-resolvers' serving_default body (uint8 LR photo in, uint8 "
                        "HR photo and bicubic out: what predict.py runs per tile) on the same low-resolution photo "
                        "of --sr_size under each --precision, each in a fresh process: output megapixels/s, the "
                        "ratio to float32 and peak RSS. Freshly initialised networks (speed does not depend on the "
                        "weights), so no export is needed")
    p.add_argument("--sr_size", default="480x320", help="--sr_inference: WIDTHxHEIGHT of the LR input photo "
                   "(default: a BSDS500-sized photo; x3 gives a 1440x960 output)")
    p.add_argument("--sr_repeats", type=int, default=3, help="--sr_inference: timed calls after one warm-up call")
    p.add_argument("--one", help=argparse.SUPPRESS)          # internal: run one configuration in this process
    args = p.parse_args()

    if args.photo:
        return photo_benchmark(args.photo, args.photo_size, args.tile, args.photo_mask)
    if args.one and args.sr_inference:
        model_id, _, policy = args.one.split(":")
        print("RESULT " + json.dumps(sr_inference_one(model_id, policy, args.sr_size, args.sr_repeats)))
        return

    if args.one and args.onednn:
        model_id, _, policy = args.one.split(":")
        return onednn_window(model_id, args.steps, args.batch_size, args.data_dir, args.dataset, policy)
    if args.one:
        model_id, jit, policy = args.one.split(":")
        its = tuple(int(n) for n in args.latent_iterations.split(","))
        print("RESULT " + json.dumps(measure(model_id, jit == "1", args.steps, args.batch_size, args.data_dir,
                                             args.steps_per_execution, args.pipeline_batches, its, args.dataset,
                                             policy, args.breakdown)))
        return

    sys.path.insert(0, ROOT)
    from keras_inpaint import precision, registry

    models = sorted(registry.REGISTRY) if args.models == "all" else args.models.split(",")
    if args.sr_inference:
        if args.models == "all":
            models = [m for m in models if registry.get(m).task().family == "super_resolution"]
        return sr_inference(models, [precision.check(p) for p in args.precision.split(",")], args.sr_size,
                            args.sr_repeats)
    if args.quick_runs:
        return quick_runs(models, args.data_dir, args.dataset)
    jits = {"off": [False], "on": [True], "both": [False, True]}[args.jit]
    policies = [precision.check(p) for p in args.precision.split(",")]
    if args.onednn:
        return onednn_breakdown(models, policies, args.steps, args.batch_size, args.data_dir, args.dataset)
    if args.parity:
        return parity(models, policies, args.data_dir, args.dataset, args.parity_steps, args.parity_examples,
                      args.parity_seed)
    print(f"CPU oneDNN ISA for bfloat16: {precision.cpu_isa()}; {os.cpu_count()} cores; steps_per_execution "
          f"{args.steps_per_execution}")
    rows = []
    for m, jit, policy in [(m, j, p) for m in models for j in jits for p in policies]:
        cmd = [sys.executable, __file__, f"--one={m}:{int(jit)}:{policy}", f"--steps={args.steps}",
               f"--steps_per_execution={args.steps_per_execution}", f"--data_dir={args.data_dir}",
               f"--pipeline_batches={args.pipeline_batches}", f"--latent_iterations={args.latent_iterations}"]
        if args.batch_size:
            cmd.append(f"--batch_size={args.batch_size}")
        if args.dataset:
            cmd.append(f"--dataset={args.dataset}")
        if not args.breakdown:
            cmd.append("--no-breakdown")
        r = subprocess.run(cmd, capture_output=True, text=True)
        line = [l for l in r.stdout.splitlines() if l.startswith("RESULT ")]
        if not line:
            print(f"{m} jit={jit} {policy}: failed\n{r.stderr[-1500:]}", file=sys.stderr)
            continue
        rows.append(json.loads(line[0][7:]))
        if args.json:
            print(json.dumps(rows[-1]))
    base = {(r["model"], r["jit_compile"]): r["train_images_per_s"] for r in rows if r["precision"] == "float32"}
    header = (f"{'model':<22} {'jit':>5} {'precision':>14} {'batch':>5} {'train img/s':>12} {'vs f32':>6} "
              f"{'pipeline img/s':>15} "
              f"{'pipe/step':>9} {'peak MiB':>9} {'paper schedule h':>17} {'D / G update ms':>16} "
              f"{'infer img/s':>12} {'infer MP/s':>10}")
    print(header)
    print("-" * len(header))
    for r in rows:
        b = base.get((r["model"], r["jit_compile"]))
        ratio = f"{r['train_images_per_s'] / b:.2f}x" if b else "-"
        print(f"{r['model']:<22} {str(r['jit_compile']):>5} {r['precision']:>14} {r['batch_size']:>5} "
              f"{r['train_images_per_s']:>12.1f} {ratio:>6} {r['pipeline_images_per_s']:>15.0f} "
              f"{r['pipeline_over_step']:>9.1f} "
              f"{r['peak_memory_mib']:>6} {r['memory_kind']} {r['paper_schedule_hours']:>17.2f} "
              f"{_dg(r):>16} {r['inference_images_per_s']:>12.1f} {r['inference_output_megapixels_per_s']:>10.2f}")
    latent = [r for r in rows if "inpainter_images_per_s" in r]
    if latent:
        print("\nLatent (z-search) inpainter, centre hole, whole batch at once: images/s by iteration count "
              "(the 'infer' columns above use the largest count)")
        for r in latent:
            per = ", ".join(f"{n} it.: {v:.2f} img/s" for n, v in r["inpainter_images_per_s"].items())
            print(f"{r['model']:<22} batch {min(r['batch_size'], 16)}: {per}")


def photo_benchmark(saved_model: str, size: str, tile: int | None, mask_spec: str | None = None) -> None:
    """Times `Predictor.predict` (predict.py's code path) on one photo of `size` ('WxH') and prints seconds,
    output megapixels/s and the process's peak resident memory (the photo, the model and every tile or crop).
    Inpainters get the hole `mask_spec` (predict.py's --mask; default: brush strokes in a centred box of a fifth of
    the photo's sides) and the check that every known pixel came back unchanged."""
    import numpy as np
    from PIL import Image

    sys.path.insert(0, ROOT)
    from keras_inpaint import prediction, precision

    w, h = (int(v) for v in size.lower().split("x"))
    set14 = os.path.join(ROOT, "..", "shared", "data", "benchmarks", "Set14", "lenna.png")
    clean = np.asarray(Image.open(set14).convert("RGB").resize((w, h), Image.BICUBIC)).astype(np.float32)
    predictor = prediction.Predictor(saved_model, **({"tile": tile} if tile else {}))
    level = None
    if predictor.info.kind == "denoise":
        level = 25.0
        clean = clean + np.random.default_rng(0).normal(0.0, level, clean.shape).astype(np.float32)
    photo = np.clip(np.round(clean), 0, 255).astype(np.uint8)
    del clean
    mask, hole = None, ""
    if predictor.info.kind == "inpaint":
        mask_spec = mask_spec or f"brush:{2 * w // 5},{2 * h // 5},{w // 5},{h // 5}"
        mask = prediction.parse_mask(mask_spec, "photo", photo, None, (0, 0))
        hole = f"mask {mask_spec}, {mask.mean():.2%} of the photo, "
    start = time.perf_counter()
    out = predictor.predict(photo, mask, noise_level=level)
    seconds = time.perf_counter() - start
    if mask is not None:
        hole += ("known pixels unchanged, " if np.array_equal(out[mask == 0], photo[mask == 0])
                 else "KNOWN PIXELS CHANGED, ")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20   # Linux: KiB -> GiB
    print(f"CPU oneDNN ISA for bfloat16: {precision.cpu_isa()}; {os.cpu_count()} cores; export precision "
          f"{predictor.card.get('precision')}")
    how = (f"crop trigger {predictor.crop_trigger}, margin {predictor.crop_margin}, crop size {predictor.crop_size}"
           if mask is not None and predictor.info.size is None else
           f"tile {predictor.tile}, overlap {predictor.overlap}")
    print(f"{predictor.info.id} on one {w}x{h} photo ({'sigma 25, ' if level else ''}{hole}{how}): {seconds:.1f} s, "
          f"{out.shape[0] * out.shape[1] / 1e6 / seconds:.2f} output megapixels/s, peak RSS {peak:.2f} GiB")


def sr_inference_one(model_id: str, policy: str, size: str, repeats: int) -> dict:
    """Child of `--sr_inference`: times `task.serve` (the export's serving_default body: uint8 LR in, uint8 HR and
    bicubic out) of a freshly initialised `model_id` network built under `policy`, on one LR photo of `size`
    ('WxH': Set14's lenna resized, bicubic) after one warm-up call."""
    import keras
    import numpy as np
    import tensorflow as tf
    from PIL import Image

    sys.path.insert(0, ROOT)
    from keras_inpaint import precision, registry

    spec = registry.get(model_id)
    task = spec.task()
    if task.family != "super_resolution":
        raise SystemExit(f"--sr_inference times super-resolvers; {model_id} is a {task.family} model")
    keras.config.set_dtype_policy(precision.check(policy))
    network = spec.build_network()
    w, h = (int(v) for v in size.lower().split("x"))
    set14 = os.path.join(ROOT, "..", "shared", "data", "benchmarks", "Set14", "lenna.png")
    photo = np.asarray(Image.open(set14).convert("RGB").resize((w, h), Image.BICUBIC))[None]
    serve = tf.function(lambda x: task.serve(network, x))
    x = tf.constant(photo)
    out = serve(x)["images"]                                  # warm-up: tracing and oneDNN kernel selection
    start = time.perf_counter()
    for _ in range(repeats):
        out = serve(x)["images"]
    seconds = (time.perf_counter() - start) / repeats
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024   # Linux: KiB -> MiB
    return {"model": model_id, "precision": policy, "input": f"{w}x{h}",
            "output": f"{int(out.shape[2])}x{int(out.shape[1])}", "seconds": round(seconds, 3),
            "output_megapixels_per_s": round(int(out.shape[1]) * int(out.shape[2]) / 1e6 / seconds, 3),
            "peak_rss_mib": round(peak), "parameters": int(network.count_params())}


def sr_inference(models, policies, size: str, repeats: int) -> None:
    """`--sr_inference`: one fresh process per (model, policy) running `sr_inference_one`; prints the table."""
    from keras_inpaint import precision

    print(f"CPU oneDNN ISA for bfloat16: {precision.cpu_isa()}; {os.cpu_count()} cores; one {size} LR photo, "
          f"serving_default body, mean of {repeats} calls after a warm-up, freshly initialised networks")
    rows = []
    for m, policy in [(m, p) for m in models for p in policies]:
        cmd = [sys.executable, __file__, "--sr_inference", f"--one={m}:0:{policy}", f"--sr_size={size}",
               f"--sr_repeats={repeats}"]
        r = subprocess.run(cmd, capture_output=True, text=True)
        line = [l for l in r.stdout.splitlines() if l.startswith("RESULT ")]
        if not line:
            print(f"{m} {policy}: failed\n{(r.stdout + r.stderr)[-1500:]}", file=sys.stderr)
            continue
        rows.append(json.loads(line[0][7:]))
    base = {r["model"]: r["output_megapixels_per_s"] for r in rows if r["precision"] == "float32"}
    header = (f"{'model':<16} {'parameters':>10} {'precision':>14} {'output':>10} {'s / photo':>10} "
              f"{'output MP/s':>12} {'vs f32':>7} {'peak RSS MiB':>13}")
    print(header)
    print("-" * len(header))
    for r in rows:
        b = base.get(r["model"])
        ratio = f"{r['output_megapixels_per_s'] / b:.2f}x" if b else "-"
        print(f"{r['model']:<16} {r['parameters']:>10,} {r['precision']:>14} {r['output']:>10} {r['seconds']:>10.2f} "
              f"{r['output_megapixels_per_s']:>12.3f} {ratio:>7} {r['peak_rss_mib']:>13}", flush=True)


def _train_run(model_id: str, data_dir: str, dataset: str | None, *flags: str) -> tuple[float, dict | None, str]:
    """Runs `train.py --model=ID FLAGS` as a user types it, in a fresh process and a temporary run/export
    directory, on the model's default dataset (or `dataset`, or its `OFFLINE_STAND_INS` stand-in).
    Returns (wall seconds, the run's metrics.json or None, the last stderr line when it failed else "")."""
    import tempfile

    from keras_inpaint import registry

    ds = dataset or offline_dataset(registry.get(model_id).default_dataset)
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, os.path.join(ROOT, "train.py"), f"--model={model_id}", f"--dataset={ds}",
               f"--data_dir={data_dir}", f"--output_dir={tmp}/run", f"--export_dir={tmp}/export", *flags]
        start = time.perf_counter()
        r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        wall = time.perf_counter() - start
        metrics_path = os.path.join(tmp, "run", "metrics.json")
        metrics = json.load(open(metrics_path)) if r.returncode == 0 and os.path.exists(metrics_path) else None
    failure = "" if r.returncode == 0 else " ".join(r.stderr.strip().splitlines()[-1:])
    return wall, metrics, failure


def quick_runs(models, data_dir: str, dataset: str | None) -> None:
    """Prints the wall time of a smoke run of each model (`train.py --model=ID --steps=10 --max_examples=512`)."""
    print(f"{'model':<22} {'quick run s':>11}  command: train.py --model=ID --steps=10 --max_examples=512")
    for m in models:
        wall, _, failure = _train_run(m, data_dir, dataset, "--steps=10", "--max_examples=512")
        print(f"{m:<22} {wall:>11.0f}{'  FAILED: ' + failure if failure else ''}", flush=True)


def parity(models, policies, data_dir: str, dataset: str | None, steps: int, examples: int, seed: int = 0) -> None:
    """Fidelity parity (issue 12): the same short schedule (seed `seed`, the same `examples` training images, the
    first `examples` test images at most) under each policy; prints the test PSNR / SSIM of each and the PSNR
    difference to the first policy (the bound is 0.1 dB)."""
    print(f"parity: train.py --model=ID --steps={steps} --max_examples={examples} --test_examples={examples} "
          f"--seed={seed} --precision=P (each policy from scratch)")
    print(f"{'model':<22} " + " ".join(f"{p + ' PSNR/SSIM':>26}" for p in policies) + f" {'dPSNR dB':>9} {'wall s':>8}")
    for m in models:
        cells, psnrs, walls = [], [], []
        for policy in policies:
            wall, metrics, failure = _train_run(m, data_dir, dataset, f"--steps={steps}", f"--max_examples={examples}",
                                                f"--test_examples={examples}", f"--steps_per_epoch={steps}",
                                                "--val_examples=16", f"--seed={seed}", f"--precision={policy}")
            walls.append(wall)
            if metrics is None:
                cells.append(f"FAILED: {failure[:60]}")
                psnrs.append(None)
                continue
            psnr, ssim = _headline(metrics, "psnr"), _headline(metrics, "ssim")
            psnrs.append(psnr)
            cells.append(f"{psnr:.3f} / {ssim:.4f}")
        delta = (" ".join(f"{p - psnrs[0]:+.3f}" for p in psnrs[1:] if p is not None)
                 if psnrs[0] is not None else "-")
        print(f"{m:<22} " + " ".join(f"{c:>26}" for c in cells) + f" {delta:>9} "
              f"{'/'.join(f'{w:.0f}' for w in walls):>8}", flush=True)
        print("PARITY " + json.dumps({"model": m, "steps": steps, "examples": examples,
                                      "seed": seed, "psnr": dict(zip(policies, psnrs)),
                                      "wall_s": dict(zip(policies, walls))}),
              flush=True)


def onednn_window(model_id: str, steps: int, batch_size: int | None, data_dir: str, dataset: str | None,
                  policy: str) -> None:
    """Child of `--onednn`: warms the train step up on one real batch, then prints `WINDOW <start ms> <end ms>
    <steps> <batch>` around `steps` timed steps (epoch milliseconds, the clock of ONEDNN_VERBOSE_TIMESTAMP).
    TensorFlow runs one op at a time (inter-op threads 1; each op still uses every core), so the oneDNN
    primitives' times add up to at most the wall time."""
    import tensorflow as tf

    if os.environ.get("KI_BENCH_INTER_OP", "1") == "1":     # "default": TensorFlow's own setting (the cores)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    import keras

    from keras_inpaint import precision
    from keras_inpaint.training import run

    keras.config.set_dtype_policy(precision.check(policy))
    resolved, spec, _, _, pipeline = _setup(model_id, False, batch_size, data_dir, 1, dataset, policy)
    config = resolved.config
    model = run.build_training_model(spec, config, resolved.trainer_options)
    ds = tf.data.Dataset.from_tensors(next(iter(pipeline))).repeat()
    model.fit(ds, steps_per_epoch=10, epochs=1, verbose=0)
    start = time.time() * 1000
    model.fit(ds, steps_per_epoch=steps, epochs=1, verbose=0)
    end = time.time() * 1000
    print(f"WINDOW {start:.3f} {end:.3f} {steps} {config.trainer.batch_size}", flush=True)


def _primitive_kind(fields: list[str]) -> str:
    """A readable kind for one ONEDNN_VERBOSE exec line's fields (after the timestamp), with its implementation
    (which names the ISA: `..._amx` uses the AMX tiles, `..._avx512_core_bf16` AVX-512 BF16, `ref` a slow
    reference loop): e.g. 'convolution backward_weights brgconv_bwd_w:avx10_1_512_amx', 'reorder jit:uni'."""
    kind, impl, prop = fields[3], fields[4], fields[5]
    name = kind if kind in ("reorder", "eltwise", "binary", "sum") or prop == "undef" else f"{kind} {prop}"
    return f"{name} {impl}"


def _onednn_child(model_id, policy, steps, batch_size, data_dir, dataset, verbose: bool, inter_op: str = "1"):
    """Runs `onednn_window` in a fresh process (inter-op threads `inter_op`: "1" or "default"); returns (window
    fields, stdout lines) or None if it failed."""
    import tempfile

    env = dict(os.environ, ONEDNN_VERBOSE="1" if verbose else "0", ONEDNN_VERBOSE_TIMESTAMP="1",
               KI_BENCH_INTER_OP=inter_op)
    cmd = [sys.executable, __file__, "--onednn", f"--one={model_id}:0:{policy}", f"--steps={steps}",
           f"--data_dir={data_dir}"]
    cmd += [f"--batch_size={batch_size}"] if batch_size else []
    cmd += [f"--dataset={dataset}"] if dataset else []
    with tempfile.TemporaryFile("w+") as out:
        r = subprocess.run(cmd, stdout=out, stderr=subprocess.PIPE, text=True, env=env)
        out.seek(0)
        lines = out.read().splitlines()
    window = [l.split() for l in lines if l.startswith("WINDOW ")]
    if r.returncode or not window:
        print(f"{model_id} {policy}: failed\n{r.stderr[-1500:]}", file=sys.stderr)
        return None
    start, end, n, batch = (float(window[0][1]), float(window[0][2]), int(window[0][3]), int(window[0][4]))
    return (start, end, n, batch), lines


def onednn_breakdown(models, policies, steps: int, batch_size: int | None, data_dir: str,
                     dataset: str | None) -> None:
    """Prints, per model and policy, the milliseconds per training step spent in each kind of oneDNN primitive
    (ONEDNN_VERBOSE's own execution times) and outside oneDNN (the step's wall time, measured in a second run
    without ONEDNN_VERBOSE since its printing slows the step, minus the oneDNN total), with each row's float32 /
    policy ratio. Both runs execute one TensorFlow op at a time (inter-op threads 1), so the times add up. The
    step's speed-up under a mixed policy is bounded by the share that gets faster (Amdahl's law)."""
    import collections

    for m in models:
        per_policy = {}
        for policy in policies:
            timed = _onednn_child(m, policy, steps, batch_size, data_dir, dataset, verbose=False)
            traced = _onednn_child(m, policy, steps, batch_size, data_dir, dataset, verbose=True)
            default = _onednn_child(m, policy, steps, batch_size, data_dir, dataset, False, "default")
            if timed is None or traced is None or default is None:
                continue
            (start, end, n, batch), lines = traced
            ms = collections.Counter()
            for line in lines:
                f = line.split(",")
                if len(f) > 8 and f[0] == "onednn_verbose" and f[4] == "exec" and start <= float(f[2]) <= end:
                    ms[_primitive_kind(f[3:])] += float(f[-1])
            step_ms = (timed[0][1] - timed[0][0]) / timed[0][2]
            per_step = {k: v / n for k, v in ms.items()}
            per_step["outside oneDNN (TF kernels, framework)"] = step_ms - sum(per_step.values())
            per_step["step (wall), TensorFlow's default inter-op threads"] = (
                (default[0][1] - default[0][0]) / default[0][2])
            per_policy[policy] = (step_ms, per_step, batch)
        if not per_policy:
            continue
        print(f"\n{m}: ms per training step (batch {next(iter(per_policy.values()))[2]}, {steps} timed steps, "
              f"inter-op threads 1)")
        wall_default = "step (wall), TensorFlow's default inter-op threads"
        names = [wall_default] + sorted({k for _, d, _ in per_policy.values() for k in d} - {wall_default},
                                        key=lambda k: -max(d.get(k, 0.0) for _, d, _ in per_policy.values()))
        print(f"{'':<72}" + "".join(f"{p:>16}" for p in per_policy) + f"{'f32 / mixed':>13}")
        base = per_policy.get("float32")
        for k in ["step (wall), one op at a time"] + names:
            vals = [s if k == "step (wall), one op at a time" else d.get(k, 0.0) for s, d, _ in per_policy.values()]
            ratio = ""
            if base is not None and len(vals) > 1 and vals[0] > 0 and vals[-1] > 0:
                ratio = f"{vals[0] / vals[-1]:.2f}x"
            print(f"{k:<72}" + "".join(f"{v:>16.1f}" for v in vals) + f"{ratio:>13}", flush=True)


def _headline(metrics: dict, name: str) -> float:
    """The test metric `name` ('psnr' or 'ssim') of a run's metrics.json; for super-resolution its Y-channel
    value (`psnr_y`); for the denoisers, which score each noise level separately (`psnr_f0.1`, `psnr_f0.3`,
    ...; ffdnet: `psnr_s15`, `psnr_s25`, `psnr_s50` under the papers' protocol), the mean over the levels."""
    for key in (name, name + "_y"):
        if key in metrics:
            return metrics[key]
    levels = [v for k, v in metrics.items()
              if k.startswith((name + "_f", name + "_s")) and not k.endswith("_uint8")]
    return sum(levels) / len(levels)


def _dg(r: dict) -> str:
    if "d_update_ms" not in r:
        return "-"
    return f"{r['d_steps']}x{r['d_update_ms']:.0f} / {r['g_update_ms']:.0f}"


if __name__ == "__main__":
    main()
