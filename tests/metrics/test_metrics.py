"""Metric implementations against published reference values and independent implementations."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter
from skimage import color, data
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from memrestore.metrics import CONVENTIONS, ShadowMAE, psnr, psnr_ssim, shadow_lab_errors, ssim
from memrestore.metrics.color import rgb_to_y, srgb_to_lab, to_255


@pytest.fixture(scope="module")
def noisy_camera() -> tuple[np.ndarray, np.ndarray]:
    """scikit-image's camera with seed-5 Gaussian noise of sigma 20, clipped, cast to uint8
    (the image of scikit-image's SSIM reference tests)."""
    cam = data.camera()
    np.random.seed(5)
    noisy = np.clip(cam + 20 * np.random.randn(*cam.shape), 0, 255).astype(np.uint8)
    return cam, noisy


# -- published reference values -------------------------------------------------------------------

def test_constant_images_reference_values():
    # Two constant 32x32 RGB images of values 1 and 2: PSNR = 20 log10(255/1) on RGB and
    # 20 log10(255 / (219/255)) on BT.601 Y; SSIM reduces to the luminance term (2*1*2+C1)/(1+4+C1).
    a = np.full((32, 32, 3), 1, np.uint8)
    b = np.full((32, 32, 3), 2, np.uint8)
    assert psnr(a, b, "rgb") == pytest.approx(48.1308036, abs=1e-7)
    # Exact float64 value 20 log10(255^2 / 219); the published 49.4527218 is the same in float32.
    assert psnr(a, b, "y") == pytest.approx(20 * np.log10(255**2 / 219), abs=1e-12)
    assert psnr(a, b, "y") == pytest.approx(49.4527218, abs=1e-5)
    assert ssim(a, b, "rgb") == pytest.approx(0.913062377743969, abs=1e-12)
    assert ssim(a, b, "y") == pytest.approx(0.9987801, abs=1e-7)
    assert ssim(a, b, "rgb-matlab3d") == pytest.approx(0.913062377743969, abs=1e-12)


def test_noisy_camera_psnr(noisy_camera):
    cam, noisy = noisy_camera
    assert psnr(noisy, cam) == pytest.approx(22.409353, abs=1e-6)


def test_noisy_camera_ssim_skimage_default_window(noisy_camera):
    cam, noisy = noisy_camera
    assert ssim(noisy, cam, "y-raindrop") == pytest.approx(0.367452, abs=1e-6)


def test_noisy_camera_ssim_wang_against_ipol_imdiff(noisy_camera):
    # IPOL's imdiff (Wang's Gaussian SSIM) gives 0.357959091663361 for this pair, as quoted by
    # scikit-image's test suite (which checks 3 decimals); our exact float64 Wang SSIM agrees to 1e-5
    # and matches scikit-image's Gaussian, population-covariance SSIM to machine precision.
    cam, noisy = noisy_camera
    value = ssim(noisy, cam, "rgb")
    assert value == pytest.approx(0.357959091663361, abs=1e-5)
    reference = structural_similarity(
        cam, noisy, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=255
    )
    assert value == pytest.approx(reference, abs=1e-10)


def test_matlab_rgb2ycbcr_primaries():
    # MATLAB rgb2ycbcr on uint8 primaries: Y(red)=81, Y(green)=145, Y(blue)=41, white 235, black 16.
    rgb = np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 255], [0, 0, 0]]], np.uint8)
    assert rgb_to_y(to_255(rgb), matlab_uint8=True).tolist() == [[81, 145, 41, 235, 16]]


def test_lab_reference_values():
    # sRGB red and white in CIE LAB (D65), as tabulated by Lindbloom's colour calculator.
    lab = srgb_to_lab(np.array([[[1.0, 0.0, 0.0], [1.0, 1.0, 1.0]]]))
    np.testing.assert_allclose(lab[0, 0], [53.2408, 80.0925, 67.2032], atol=2e-3)
    np.testing.assert_allclose(lab[0, 1], [100.0, 0.0, 0.0], atol=1e-3)


# -- cross-checks against independent implementations ---------------------------------------------

@pytest.mark.parametrize("dtype", ["uint8", "float32"])
def test_rgb_matches_scikit_image_on_random_images(rng, dtype):
    a = rng.integers(0, 256, (37, 53, 3)).astype(np.uint8)
    b = np.clip(a + rng.normal(0, 12, a.shape), 0, 255).astype(np.uint8)
    if dtype == "float32":
        a, b = a.astype(np.float32) / 255, b.astype(np.float32) / 255
    data_range = 255 if dtype == "uint8" else 1.0
    assert psnr(a, b) == pytest.approx(peak_signal_noise_ratio(a, b, data_range=data_range), abs=1e-5)
    expected = structural_similarity(
        a, b, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=data_range, channel_axis=2
    )
    assert ssim(a, b) == pytest.approx(expected, abs=1e-5)
    uniform = structural_similarity(a[..., 0], b[..., 0], data_range=data_range)
    assert ssim(a[..., 0], b[..., 0], "y-raindrop") == pytest.approx(uniform, abs=1e-5)


def test_y_conventions_on_random_images(rng):
    a = rng.integers(0, 256, (30, 40, 3)).astype(np.uint8)
    b = rng.integers(0, 256, (30, 40, 3)).astype(np.uint8)
    ya = 16 + a.astype(np.float64) @ np.array([65.481, 128.553, 24.966]) / 255
    yb = 16 + b.astype(np.float64) @ np.array([65.481, 128.553, 24.966]) / 255
    assert psnr(a, b, "y") == pytest.approx(peak_signal_noise_ratio(ya, yb, data_range=255), abs=1e-9)
    ra, rb = np.floor(ya + 0.5), np.floor(yb + 0.5)
    assert psnr(a, b, "y-matlab") == pytest.approx(peak_signal_noise_ratio(ra, rb, data_range=255), abs=1e-9)


def test_matlab3d_ssim_matches_scipy_gaussian_filter(rng):
    a = rng.integers(0, 256, (25, 31, 3)).astype(np.float64)
    b = np.clip(a + rng.normal(0, 20, a.shape), 0, 255)
    blur = lambda x: gaussian_filter(x, sigma=1.5, mode="nearest", truncate=5 / 1.5)  # 11 taps per axis
    mu_a, mu_b = blur(a), blur(b)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    va, vb, cov = blur(a * a) - mu_a**2, blur(b * b) - mu_b**2, blur(a * b) - mu_a * mu_b
    expected = (((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a**2 + mu_b**2 + c1) * (va + vb + c2))).mean()
    assert ssim(a / 255, b / 255, "rgb-matlab3d") == pytest.approx(expected, abs=1e-12)
    # The 3-D window mixes channels, so it differs from the per-channel convention.
    assert abs(ssim(a / 255, b / 255, "rgb-matlab3d") - ssim(a / 255, b / 255, "rgb")) > 1e-4


def test_lab_matches_scikit_image(rng):
    rgb = rng.uniform(0, 1, (20, 20, 3))
    # scikit-image uses the 6-digit sRGB matrix; the two agree to within 0.005 LAB units.
    np.testing.assert_allclose(srgb_to_lab(rgb), color.rgb2lab(rgb, illuminant="D65"), atol=1e-2)


# -- behaviour -------------------------------------------------------------------------------------

def test_crop_border_equals_manual_crop(rng):
    a = rng.integers(0, 256, (40, 40, 3)).astype(np.uint8)
    b = rng.integers(0, 256, (40, 40, 3)).astype(np.uint8)
    for convention in CONVENTIONS:
        cropped = psnr_ssim(a[4:-4, 4:-4], b[4:-4, 4:-4], convention)
        assert psnr_ssim(a, b, convention, crop_border=4) == pytest.approx(cropped)


def test_uint16_and_float_inputs_agree_with_uint8(rng):
    a = rng.integers(0, 256, (24, 24, 3)).astype(np.uint8)
    b = rng.integers(0, 256, (24, 24, 3)).astype(np.uint8)
    as16 = lambda x: x.astype(np.uint16) * 257
    assert psnr(as16(a), as16(b)) == pytest.approx(psnr(a, b), abs=1e-9)
    assert ssim(a / 255.0, b / 255.0, "y") == pytest.approx(ssim(a, b, "y"), abs=1e-12)


def test_identical_images():
    a = np.full((16, 16, 3), 0.3)
    assert psnr(a, a) == float("inf")
    assert ssim(a, a) == pytest.approx(1.0)


def test_metric_errors():
    a = np.zeros((20, 20, 3), np.uint8)
    with pytest.raises(ValueError, match="differs"):
        psnr(a, np.zeros((20, 21, 3), np.uint8))
    with pytest.raises(ValueError, match="unknown metric convention"):
        psnr(a, a, "ycbcr")
    with pytest.raises(ValueError, match="at least 11x11"):
        ssim(np.zeros((10, 30)), np.zeros((10, 30)))
    with pytest.raises(TypeError, match="dtype"):
        psnr(a.astype(np.int32), a.astype(np.int32))


# -- ISTD shadow-removal MAE -----------------------------------------------------------------------

def test_shadow_errors_by_region():
    target = np.full((64, 64, 3), 0.5)
    pred = target.copy()
    mask = np.zeros((64, 64), np.uint8)
    mask[:, :32] = 255
    pred[:, :24] += 0.1  # error well inside the shadow (bicubic resizing blurs edges by 2 px)
    errors = shadow_lab_errors(pred, target, mask)
    assert errors.pixels["shadow"] + errors.pixels["non_shadow"] == errors.pixels["all"] == 256 * 256
    assert errors.mae("non_shadow") == pytest.approx(0.0, abs=1e-6)
    assert errors.mae("shadow") > 5.0  # ~ delta L of 0.1 in sRGB at mid grey
    assert errors.mae("all") == pytest.approx(errors.mae("shadow") * errors.pixels["shadow"] / 256**2, rel=1e-9)
    assert shadow_lab_errors(target, target, mask).mae("all") == 0.0


def test_shadow_averaging_conventions_differ_as_defined():
    target = np.full((32, 32, 3), 0.5)
    small, large = np.zeros((32, 32), np.uint8), np.zeros((32, 32), np.uint8)
    small[:4, :4] = 255
    large[:, :16] = 255
    results = ShadowMAE()
    results.add(shadow_lab_errors(target + 0.2, target, small))  # big error, few shadow pixels
    results.add(shadow_lab_errors(target + 0.05, target, large))  # small error, many pixels
    per_image, per_pixel = results.per_image_mean(), results.per_pixel_total()
    e1, e2 = results.images
    assert per_image["shadow"] == pytest.approx((e1.mae("shadow") + e2.mae("shadow")) / 2)
    expected = (e1.error_sum["shadow"] + e2.error_sum["shadow"]) / (e1.pixels["shadow"] + e2.pixels["shadow"])
    assert per_pixel["shadow"] == pytest.approx(expected)
    assert per_image["shadow"] > per_pixel["shadow"]
