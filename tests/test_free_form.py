"""Free-form masks, the gated-convolution inpainter, feature matching and per-area evaluation (issue 13)."""
import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_inpaint import corruptions, evaluation, registry, tasks
from keras_inpaint.models.free_form import network as free_form
from keras_inpaint.training import adversarial


@pytest.mark.parametrize("preset", sorted(corruptions.FREE_FORM_PRESETS))
def test_free_form_masks_are_binary_seeded_and_at_most_half(preset):
    seed = tf.constant([3, 4], tf.int64)
    a = corruptions.free_form_mask([16, 64, 64], seed, preset).numpy()
    b = corruptions.free_form_mask([16, 64, 64], seed, preset).numpy()
    c = corruptions.free_form_mask([16, 64, 64], tf.constant([3, 5], tf.int64), preset).numpy()
    assert a.shape == (16, 64, 64, 1) and a.dtype == np.float32
    assert set(np.unique(a)) <= {0.0, 1.0}
    np.testing.assert_array_equal(a, b)          # deterministic for a seed
    assert not np.array_equal(a, c)              # and different for another
    area = a.mean(axis=(1, 2, 3))
    assert (area > 0).all() and (area <= corruptions.MAX_HOLE_FRACTION).all()


def test_free_form_presets_scale_with_the_image_and_differ_in_stroke_width():
    seed = tf.constant([1, 2], tf.int64)
    small = corruptions.free_form_mask([32, 64, 64], seed, "thick").numpy().mean()
    large = corruptions.free_form_mask([32, 128, 128], seed, "thick").numpy().mean()
    assert abs(small - large) < 0.1              # sizes are relative to the image: similar hole fractions

    def mean_run(mask):                          # mean length of horizontal runs of hole pixels ~ stroke width
        runs = []
        for row in mask.reshape(-1, mask.shape[2]):
            edges = np.diff(np.concatenate([[0], row, [0]]))
            runs += list(np.nonzero(edges == -1)[0] - np.nonzero(edges == 1)[0])
        return np.mean(runs)
    thin = corruptions.free_form_mask([16, 128, 128], seed, "thin").numpy()[..., 0]
    thick = corruptions.free_form_mask([16, 128, 128], seed, "thick").numpy()[..., 0]
    assert mean_run(thin) < mean_run(thick) / 2


def test_brush_strokes_and_area_bins():
    mask = corruptions.brush_stroke_mask([8, 64, 64], tf.constant([0, 1], tf.int64)).numpy()
    assert mask.shape == (8, 64, 64, 1) and set(np.unique(mask)) <= {0.0, 1.0} and (mask.sum((1, 2, 3)) > 0).all()
    fractions = np.array([0.0, 0.05, 0.1, 0.25, 0.49, 0.5, 0.9], np.float32)
    masks = np.zeros((7, 10, 10, 1), np.float32)
    for i, f in enumerate(fractions):
        masks[i].reshape(-1)[:int(round(f * 100))] = 1.0
    np.testing.assert_array_equal(corruptions.mask_area_bin(masks).numpy(), [0, 0, 1, 2, 4, 5, 5])
    with pytest.raises(ValueError, match="preset"):
        corruptions.free_form_mask([1, 8, 8], tf.constant([0, 0]), "huge")


def test_gated_generator_is_fully_convolutional_and_keeps_known_pixels():
    g = free_form.build_free_form_generator()
    spec = registry.get("free_form_inpaint")
    assert g.count_params() == spec.params == 1_131_711                                # computed (network.py)
    assert spec.adversarial.discriminator().count_params() == spec.discriminator_params == 431_201
    rng = np.random.default_rng(0)
    for h, w in ((64, 64), (36, 52)):
        x = rng.uniform(-1, 1, (2, h, w, 4)).astype("float32")
        x[..., 3] = rng.uniform(size=(2, h, w)) > 0.7
        x[..., :3] *= 1 - x[..., 3:]
        y = g(x).numpy()
        assert y.shape == (2, h, w, 3) and y.dtype == np.float32 and np.abs(y).max() <= 1.0
        known = x[..., 3] == 0
        np.testing.assert_array_equal(y[known], x[..., :3][known])
    with pytest.raises(ValueError, match="multiple of 4"):
        free_form.build_free_form_generator((30, 30, 4))


def test_feature_matching_term_is_logged_and_needs_discriminator_features():
    g = free_form.build_free_form_generator((32, 32, 4), width=8)
    d = free_form.build_patch_discriminator((32, 32, 3), width=8)
    trainer = adversarial.AdversarialTrainer(g, d, adversarial_loss="bce_logits", content_loss="l1",
                                             content_weight=100.0, feature_matching_weight=10.0)
    trainer.compile(keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3))
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, (4, 32, 32, 4)).astype("float32")
    x[..., 3] = 0.0
    x[:, 8:24, 8:24, :3], x[:, 8:24, 8:24, 3] = 0.0, 1.0
    y = rng.uniform(-1, 1, (4, 32, 32, 3)).astype("float32")
    logs = trainer.train_on_batch(x, y, return_dict=True)
    assert {"g_fm", "g_adv", "g_content", "d_loss"} <= set(logs) and all(np.isfinite(v) for v in logs.values())
    assert logs["g_fm"] > 0
    plain_d = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Conv2D(1, 4, strides=4)])
    bad = adversarial.AdversarialTrainer(g, plain_d, adversarial_loss="bce_logits", content_loss="l1",
                                         feature_matching_weight=1.0)
    bad.compile(keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3))
    with pytest.raises(ValueError, match="feature_matching"):
        bad.train_on_batch(x, y)


@pytest.mark.parametrize("kind", ["random_box", "free_form:thin", "brush", "mixed", "mixed_centre"])
def test_masked_inpainting_task_masks_for_training_and_evaluation(kind):
    task = registry.get("free_form_inpaint").task(mask=kind)
    images = tf.constant(np.random.default_rng(2).integers(0, 256, (4, 64, 64, 3)), tf.uint8)
    x, y = task.make_pair(images, tf.constant([5, 6], tf.int64))
    assert x.shape == (4, 64, 64, 4) and y.shape == (4, 64, 64, 3)
    hole = x[..., 3:].numpy()
    assert set(np.unique(hole)) <= {0.0, 1.0} and hole.sum() > 0
    np.testing.assert_array_equal(x[..., :3].numpy() * hole, 0.0)      # the hole is blanked (fill value 0)
    np.testing.assert_array_equal(task.mask(images).numpy(), task.mask(images).numpy())  # fixed eval masks
    with pytest.raises(ValueError, match="mask must be one of"):
        registry.get("free_form_inpaint").task(mask="circle")


def test_mask_mixtures_draw_the_centre_square_at_their_stated_share():
    """'mixed' draws the centre square for 1/4 of the batches, 'mixed_centre' for 1/2 (tasks.MASK_MIXTURES),
    the other kinds otherwise (200 seeded batches each; binomial sd ~0.035)."""
    images = tf.zeros([1, 64, 64, 3], tf.uint8)
    centre = tasks.make_mask("centre", images, None).numpy()
    for kind, share in (("mixed", 0.25), ("mixed_centre", 0.5)):
        assert sum(p for _, p in tasks.MASK_MIXTURES[kind]) == pytest.approx(1.0)
        draw = tf.function(lambda seed, kind=kind: tasks.make_mask(kind, images, seed))   # traced once
        hits = [np.array_equal(draw(tf.constant([s, 1], tf.int64)).numpy(), centre) for s in range(200)]
        assert abs(np.mean(hits) - share) < 0.1, (kind, np.mean(hits))


def test_evaluation_reports_metrics_per_mask_area_bin():
    task = tasks.MaskedInpainting((64, 64, 3), mask="free_form:thick", mask_input=True, any_size=True, multiple=4)
    identity = lambda inputs, training=False: inputs[..., :3]  # noqa: E731  (hole left at 0: mid-grey)
    images = tf.data.Dataset.from_tensor_slices(np.random.default_rng(3).integers(0, 256, (40, 64, 64, 3))
                                                .astype(np.uint8))
    results = evaluation.evaluate(task, identity, images, batch_size=16)
    bins = results["area_bins"]
    assert sum(b["num_images"] for b in bins.values()) == 40 and len(bins) >= 2
    for name, row in bins.items():
        lo = int(name.split("-")[0].rstrip("%+"))
        assert lo / 100 <= row["mask_area"] < lo / 100 + 0.1 or name.endswith("+")
    weighted = sum(b["psnr"] * b["num_images"] for b in bins.values()) / 40
    assert weighted == pytest.approx(results["psnr"], abs=1e-6)
    assert "by hole area" in evaluation.format_table(results, task)


def test_any_size_serving_pads_and_keeps_known_pixels():
    spec = registry.get("free_form_inpaint")
    task = spec.task()
    g = spec.build_network()
    sigs = task.serving_signatures()
    images_spec, mask_spec = sigs["serving_default"][1]
    assert images_spec.shape.as_list() == [None, None, None, 3] and mask_spec.shape.as_list() == [None, None, None, 1]
    images = tf.constant(np.random.default_rng(4).integers(0, 256, (1, 45, 70, 3)), tf.uint8)
    mask = np.zeros((1, 45, 70, 1), np.float32)
    mask[:, 10:30, 20:50] = 1.0
    out = sigs["serving_default"][0](g, images, tf.constant(mask))["images"].numpy()
    assert out.shape == (1, 45, 70, 3) and out.dtype == np.uint8
    known = mask[..., 0] == 0
    np.testing.assert_array_equal(out[known], images.numpy()[known])
