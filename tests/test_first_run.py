"""First-run experience (issue 15): small folders train, evaluate and export."""
import json
import os

from keras_inpaint import data
from keras_inpaint.training import run


def test_an_eight_image_folder_trains_evaluates_and_exports_with_a_warning(small_face_folder, tmp_path, capsys):
    folder = small_face_folder(8, 0)
    files = data.list_folder_images(folder, "all")
    assert len(files) == 8 and all(data.folder_split(f) == "train" for f in files)   # the hash split: no test image
    test, train = data.list_folder_images(folder, "test"), data.list_folder_images(folder, "train")
    assert len(test) == 1 and len(train) == 7 and not set(test) & set(train)
    config = run.RunConfig.of(model="context_encoder", dataset=f"folder:{folder}", steps=2, batch_size=4,
                              steps_per_epoch=2, output_dir=str(tmp_path / "run"), export_dir=str(tmp_path / "export"))
    result = run.train(config, verbose=0)
    assert "held back as the only test image" in capsys.readouterr().out
    assert result["metrics"]["num_images"] == 1
    assert os.path.exists(os.path.join(result["export_path"], "saved_model.pb"))
    with open(os.path.join(str(tmp_path / "run"), "metrics.json")) as f:
        assert json.load(f)["num_images"] == 1


def test_smoke_runs_of_the_slow_restorer_and_z_search_models_evaluate_on_64_images():
    """Issue 15: a run shorter than its schedule (or with --max_examples) of restoration_gan (128x128, ~8 images/s
    to restore here) or of the z-search priors validates and tests on at most 64 test images unless told
    otherwise; the paper-scale run keeps the whole test split and --val_examples."""
    for model in ("restoration_gan", "lsgan"):
        quick = run.RunConfig.of(model=model, steps=10).resolved()
        assert (quick.data.test_examples, quick.data.val_examples) == (64, 64), model
        told = run.RunConfig.of(model=model, max_examples=512, test_examples=100, val_examples=16).resolved()
        assert (told.data.test_examples, told.data.val_examples) == (100, 16), model
        full = run.RunConfig.of(model=model).resolved()
        assert (full.data.test_examples, full.data.val_examples) == (None, 1000), model
    other = run.RunConfig.of(model="denoising_ae_ffhq", steps=10).resolved()
    assert (other.data.test_examples, other.data.val_examples) == (None, 1000)
