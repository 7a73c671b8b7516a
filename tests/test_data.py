"""Data sources (SPEC §4): tfds and folder datasets, held-back split, crops, ranges, clear errors."""
import os

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from keras_inpaint import data


def _write_images(folder, n, size=(40, 50), start=0):
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(start)
    for i in range(start, start + n):
        arr = rng.integers(0, 256, (size[0], size[1], 3), dtype=np.uint8)
        Image.fromarray(arr).save(os.path.join(folder, f"img_{i:04d}.png"))


def test_value_range_round_trip():
    x = tf.constant(np.arange(256, dtype=np.uint8).reshape(1, 16, 16, 1))
    for vr in [(0.0, 1.0), (-1.0, 1.0)]:
        f = data.to_model_range(x, vr)
        assert float(tf.reduce_min(f)) == vr[0] and float(tf.reduce_max(f)) == vr[1]
        np.testing.assert_array_equal(data.to_uint8(f, vr).numpy(), x.numpy())


def test_fit_to_size_celeba_face_crop():
    img = np.zeros((218, 178, 3), np.uint8)
    img[55:163, 35:143] = 200   # exactly the 108x108 face crop
    out = data.fit_to_size(tf.constant(img), (64, 64)).numpy()
    assert out.shape == (64, 64, 3)
    assert (out == 200).all()


def test_fit_to_size_centre_crop_without_resize():
    img = np.random.default_rng(0).integers(0, 256, (218, 178, 3), dtype=np.uint8)
    out = data.fit_to_size(tf.constant(img), (120, 120), crop="centre").numpy()
    np.testing.assert_array_equal(out, img[49:169, 29:149])


def test_fit_to_size_keeps_matching_images_and_resizes_others():
    img = np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    np.testing.assert_array_equal(data.fit_to_size(tf.constant(img), (32, 32)).numpy(), img)
    big = np.random.default_rng(0).integers(0, 256, (40, 80, 3), dtype=np.uint8)
    assert data.fit_to_size(tf.constant(big), (32, 32)).shape == (32, 32, 3)
    with pytest.raises(ValueError):
        data.fit_to_size(tf.constant(img), (32, 32), crop="nonsense")


def test_folder_split_is_deterministic_and_about_ninety_ten(tmp_path):
    names = [f"/x/face_{i}.jpg" for i in range(2000)]
    splits = [data.folder_split(n) for n in names]
    assert splits == [data.folder_split(n) for n in names]
    frac = splits.count("test") / len(splits)
    assert 0.07 < frac < 0.13
    # the split depends on the file name only, not on the folder
    assert data.folder_split("/a/b/face_7.jpg") == data.folder_split("/c/face_7.jpg")


def test_folder_dataset_reads_recursively_and_splits_disjointly(tmp_path):
    _write_images(str(tmp_path / "a"), 30)
    _write_images(str(tmp_path / "b" / "c"), 30, start=30)
    train = data.list_folder_images(str(tmp_path), "train")
    test = data.list_folder_images(str(tmp_path), "test")
    assert len(train) + len(test) == 60 and not set(train) & set(test)
    ds = data.load_images(f"folder:{tmp_path}", "train", (32, 32), 3)
    images = list(ds.as_numpy_iterator())
    assert len(images) == len(train)
    assert images[0].shape == (32, 32, 3) and images[0].dtype == np.uint8


def test_folder_dataset_skips_a_corrupt_file(tmp_path):
    _write_images(str(tmp_path), 12)
    with open(tmp_path / "broken.png", "wb") as f:
        f.write(b"not an image at all")
    n_expected = len([f for f in data.list_folder_images(str(tmp_path), "all") if "broken" not in f])
    ds = data.load_images(f"folder:{tmp_path}", "all", (16, 16), 3)
    assert len(list(ds.as_numpy_iterator())) == n_expected


def test_missing_folder_and_empty_folder_errors(tmp_path):
    with pytest.raises(data.DatasetError, match="not a directory"):
        data.load_images(f"folder:{tmp_path}/nope", "train", (32, 32), 3)
    with pytest.raises(data.DatasetError, match="no image files"):
        data.load_images(f"folder:{tmp_path}", "train", (32, 32), 3)


def test_tfds_dataset_not_prepared_gives_actionable_error(tmp_path):
    with pytest.raises(data.DatasetError) as e:
        data.load_images("cifar10", "train", (32, 32), 3, data_dir=str(tmp_path))
    msg = str(e.value)
    assert "cifar10" in msg and str(tmp_path) in msg and "--data_dir" in msg and "TFDS_DATA_DIR" in msg


def test_unknown_tfds_name_error(tmp_path):
    with pytest.raises(data.DatasetError, match="Unknown dataset"):
        data.load_images("no_such_dataset_xyz", "train", (32, 32), 3, data_dir=str(tmp_path))


def test_tfds_data_dir_env_is_honoured(tfds_dir, monkeypatch):
    monkeypatch.setenv("TFDS_DATA_DIR", tfds_dir)
    ds = data.load_images("cifar10", "test", (32, 32), 3, max_examples=4)
    batch = next(iter(ds.batch(4))).numpy()
    assert batch.shape == (4, 32, 32, 3) and batch.dtype == np.uint8 and batch.max() > 0


def test_training_pipeline_is_batched_and_reproducible(tfds_dir):
    from keras_inpaint import registry

    task = registry.get("context_encoder").task()
    images = data.load_images("cifar10", "train", (32, 32), 3, data_dir=tfds_dir, max_examples=64)
    first = [next(iter(data.training_pipeline(images, 16, task.make_pair, seed=s))) for s in (1, 1, 2)]
    (x, y) = first[0]
    assert x.shape == (16, 32, 32, 3) and y.shape == (16, 16, 16, 3)
    assert float(tf.reduce_min(x)) >= 0.0 and float(tf.reduce_max(x)) <= 1.0
    np.testing.assert_array_equal(x.numpy()[:, 8:24, 8:24], 0.0)       # hole filled with 0 (SPEC §2)
    np.testing.assert_array_equal(first[0][1].numpy(), first[1][1].numpy())   # same seed, same batch
    assert not np.array_equal(first[0][1].numpy(), first[2][1].numpy())      # other seed, other order


def _ids(n):
    """n distinct 1x1 images whose pixel value is the image's index."""
    return tf.data.Dataset.range(n).map(lambda i: tf.fill([1, 1, 1], tf.cast(i, tf.uint8)))


def test_training_pipeline_iterators_agree_and_every_pass_is_a_new_permutation():
    """Every iterator of the pipeline yields the same batches, also after one was opened and discarded (Keras
    does that under a tf.distribute strategy; `Dataset.shuffle`'s per-iterator reshuffle then changed the
    order). Each pass over the data is a permutation of it, a different one each pass; chunks of
    `shuffle_buffer` images are permuted separately."""
    def batches(ds, k):
        return [b.numpy().ravel().tolist() for b, _ in ds.take(k)]

    ds = data.training_pipeline(_ids(12), 4, lambda x, s: (x, s), seed=7)
    first = batches(ds, 9)                      # 3 passes of 12 images
    it = iter(ds)
    next(it)
    del it
    assert batches(ds, 9) == first
    passes = [sum(first[3 * p:3 * p + 3], []) for p in range(3)]
    assert all(sorted(p) == list(range(12)) for p in passes)
    assert len({tuple(p) for p in passes}) == 3 and passes[0] != list(range(12))
    assert batches(data.training_pipeline(_ids(12), 4, lambda x, s: (x, s), seed=8), 3) != first[:3]
    chunked = data.training_pipeline(_ids(12), 4, lambda x, s: (x, s), seed=7, shuffle_buffer=6)
    chunked = sum(batches(chunked, 3), [])
    assert sorted(chunked[:6]) == list(range(6)) and sorted(chunked[6:]) == list(range(6, 12))


def test_benchmark_folder_keeps_full_sizes_converts_grey_and_skips_bad_files(tmp_path):
    """Benchmark folders are scored whole: no crop, no split, sorted order; greyscale/RGBA become RGB."""
    Image.fromarray(np.full((13, 17), 200, np.uint8)).save(tmp_path / "a_grey.png")
    Image.fromarray(np.full((9, 6, 4), 50, np.uint8)).save(tmp_path / "b_rgba.png")
    Image.fromarray(np.full((20, 30, 3), 90, np.uint8)).save(tmp_path / "c_rgb.jpg")
    (tmp_path / "d_broken.png").write_bytes(b"not a png")
    images = list(data.load_benchmark_images(str(tmp_path)).as_numpy_iterator())
    assert [im.shape for im in images] == [(13, 17, 3), (9, 6, 3), (20, 30, 3)]
    assert images[0][0, 0].tolist() == [200, 200, 200] and images[1][0, 0].tolist() == [50, 50, 50]
    with pytest.raises(data.DatasetError, match="not a directory"):
        data.load_benchmark_images(str(tmp_path / "missing"))


def test_celeb_a_tfds_path_with_mock_data():
    """celeb_a is read through tfds when prepared (no copy in shared/data): the same code path on tfds' mock
    data, which stubs `download_and_prepare` (nothing is downloaded). Mock images are 218x178 like the real
    aligned set, so the face recipe (centre 108x108 -> 64x64, SPEC §4) applies unchanged."""
    import tensorflow_datasets as tfds

    with tfds.testing.mock_data(num_examples=6):
        train = list(data.load_images("celeb_a", "train", (64, 64), 3, crop="face108", download=True)
                     .as_numpy_iterator())
        test = data.load_images("celeb_a", "test", (128, 128), 3, download=True)
        test = list(test.as_numpy_iterator())
    assert len(train) == 6 and len(test) == 6
    assert {im.shape for im in train} == {(64, 64, 3)} and {im.shape for im in test} == {(128, 128, 3)}
    assert train[0].dtype == np.uint8


def test_a_failed_download_is_a_clear_dataset_error(tmp_path, monkeypatch, capsys):
    """`train.py --download` lets tfds download a missing dataset (issue 15); offline, the download fails, and that
    is one DatasetError naming the dataset and how to point at prepared data (the network is simulated away here)."""
    import tensorflow_datasets as tfds

    real_builder = tfds.builder

    def offline_builder(name, **kwargs):
        builder = real_builder(name, **kwargs)

        def no_network(*args, **kw):
            raise ConnectionError("Failed to resolve 'storage.googleapis.com'")
        builder.download_and_prepare = no_network
        return builder

    monkeypatch.setattr(tfds, "builder", offline_builder)
    with pytest.raises(data.DatasetError, match=r"Could not download dataset 'mnist'.*ConnectionError.*--data_dir"):
        data.load_images("mnist", "train", (28, 28), 1, data_dir=str(tmp_path), download=True)
    assert "tfds downloads and prepares it" in capsys.readouterr().out     # said before trying
    with pytest.raises(data.DatasetError, match=r"not prepared in .*train.py --download"):
        data.load_images("mnist", "train", (28, 28), 1, data_dir=str(tmp_path), download=False)
