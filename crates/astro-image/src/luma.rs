//! Luma from RGB: the one definition of the ITU-R BT.601 weights the workspace uses.

/// BT.601 luma weights for R, G, B.
pub const BT601: [f32; 3] = [0.299, 0.587, 0.114];

/// BT.601 luma of one RGB sample (any scale: the weights sum to 1).
#[inline]
pub fn bt601(r: f32, g: f32, b: f32) -> f32 {
    BT601[0] * r + BT601[1] * g + BT601[2] * b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_sum_to_one_and_green_dominates() {
        assert!((BT601.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert!((bt601(1.0, 1.0, 1.0) - 1.0).abs() < 1e-6);
        assert!(bt601(0.0, 1.0, 0.0) > bt601(1.0, 0.0, 0.0) && bt601(1.0, 0.0, 0.0) > bt601(0.0, 0.0, 1.0));
    }
}
