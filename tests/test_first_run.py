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
    config = run.RunConfig(model="context_encoder", dataset=f"folder:{folder}", steps=2, batch_size=4,
                           steps_per_epoch=2, output_dir=str(tmp_path / "run"), export_dir=str(tmp_path / "export"))
    result = run.train(config, verbose=0)
    assert "held back as the only test image" in capsys.readouterr().out
    assert result["metrics"]["num_images"] == 1
    assert os.path.exists(os.path.join(result["export_path"], "saved_model.pb"))
    with open(os.path.join(str(tmp_path / "run"), "metrics.json")) as f:
        assert json.load(f)["num_images"] == 1
