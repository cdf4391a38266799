"""Synthetic degradations that turn clean photos into training pairs."""

from .rain import LIGHT_RAIN, RainParams, add_rain, rain_layer, sample_rain_params, streak_kernel

__all__ = ["LIGHT_RAIN", "RainParams", "add_rain", "rain_layer", "sample_rain_params", "streak_kernel"]
