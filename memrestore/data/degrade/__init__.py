"""Synthetic degradations that turn clean photos into training pairs (one module per physics)."""

from .blur import BlurParams, add_motion_blur, add_varying_motion_blur, average_frames, shake_trajectory, trajectory_kernel
from .haze import HazeParams, add_haze, pseudo_depth
from .rain import LIGHT_RAIN, RainParams, add_rain, rain_layer, sample_rain_params, streak_kernel, streak_ranges
from .raindrop import RaindropParams, add_raindrops
from .shadow import ShadowParams, add_shadow
from .timelapse import timelapse_sequence

__all__ = [
    "BlurParams", "HazeParams", "LIGHT_RAIN", "RainParams", "RaindropParams", "ShadowParams", "add_haze",
    "add_motion_blur", "add_rain", "add_raindrops", "add_shadow", "add_varying_motion_blur", "average_frames",
    "pseudo_depth",
    "rain_layer", "sample_rain_params", "shake_trajectory", "streak_kernel", "streak_ranges", "timelapse_sequence",
    "trajectory_kernel",
]
