//! SRGAN-family super-resolution and survey-to-Hubble-style translation: models, training, evaluation and tiled inference.
