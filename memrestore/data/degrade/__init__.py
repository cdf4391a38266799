"""Synthetic degradations that turn clean photos into training pairs."""

from .rain import RainParams, add_rain, rain_layer, sample_rain_params, streak_kernel

__all__ = ["RainParams", "add_rain", "rain_layer", "sample_rain_params", "streak_kernel"]
