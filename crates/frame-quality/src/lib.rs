//! Planetary lucky imaging: read SER videos, rank frames by sharpness (PIPP/PSS metrics and learned rankers), align and stack the best.
