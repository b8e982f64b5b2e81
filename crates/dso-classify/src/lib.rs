//! Deep-sky object classifier (galaxy / nebula / star cluster) trained on real images.
