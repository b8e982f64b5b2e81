//! The Flex (CPU) kernels of [`super::conv_same`] and [`super::conv_down`]: stride-1 k×k
//! convolutions with p pixels of zero padding (p < k; "same" when k is odd and p = k/2). The image is cut into bands of rows, one work
//! unit per (image, band) spread over rayon; each unit copies its band into a small, cache-sized
//! column matrix (im2col) and makes one serial `gemm` call writing straight into the output. The
//! backward pass has the same shape: the input gradient is the same convolution of the output
//! gradient with the flipped, transposed kernel (no col2im, no scatter), and the weight gradient is
//! one accumulated product per unit. Burn's default backward instead runs `conv_transpose2d` with
//! a serial col2im per image and a swapped-dims convolution.

use burn::backend::autodiff::NodeId;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::NoCheckpointing;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::backend::{Autodiff, Flex};
use burn::tensor::{DType, TensorData, TensorMetadata};
use rayon::prelude::*;
use std::cell::RefCell;

/// Column-matrix floats one work unit aims for (1 MiB of f32: fits a core's L2 cache).
const UNIT_FLOATS: usize = 1 << 18;

/// Sizes of one stride-1 convolution: batch, channels in/out, input height and width, kernel
/// side, zero padding on every side.
#[derive(Debug, Clone, Copy)]
struct Geometry {
    n: usize,
    ci: usize,
    co: usize,
    h: usize,
    w: usize,
    k: usize,
    p: usize,
}

impl Geometry {
    fn hw(&self) -> usize {
        self.h * self.w
    }
    /// Output height, width and pixels.
    fn ho(&self) -> usize {
        self.h + 2 * self.p + 1 - self.k
    }
    fn wo(&self) -> usize {
        self.w + 2 * self.p + 1 - self.k
    }
    fn hwo(&self) -> usize {
        self.ho() * self.wo()
    }
    /// The geometry of the input gradient: the output gradient convolved with the flipped,
    /// transposed kernel, padded by k − 1 − p (its output is the input's size).
    fn input_gradient(&self) -> Geometry {
        Geometry { ci: self.co, co: self.ci, h: self.ho(), w: self.wo(), p: self.k - 1 - self.p, ..*self }
    }
    /// Rows of the column matrix (and columns of the weight matrix): `ci·k²`.
    fn rows(&self) -> usize {
        self.ci * self.k * self.k
    }
    /// Output rows per work unit.
    fn band(&self) -> usize {
        (UNIT_FLOATS / (self.rows() * self.wo()).max(1)).clamp(1, self.ho())
    }
    /// Every (image, first output row, rows) work unit.
    fn units(&self) -> Vec<(usize, usize, usize)> {
        let (b, ho) = (self.band(), self.ho());
        (0..self.n).flat_map(|i| (0..ho).step_by(b).map(move |y0| (i, y0, b.min(ho - y0)))).collect()
    }
}

thread_local! {
    /// Each rayon thread's column matrix, reused across calls (no allocation, no page faults).
    static COLUMNS: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// `dst[m×n] (row stride dst_rs) (+)= lhs · rhs`, where `lhs` is m×k row-major, `rhs` is k×n with row stride `rhs_rs`; one serial gemm call, bounds checked here.
///
/// # Safety
/// `dst` must be valid for writes of `dst_len` floats, and no other thread may touch the m rows
/// of n floats it writes while it runs.
#[allow(clippy::too_many_arguments)]
unsafe fn gemm_into(
    (dst, dst_len): (*mut f32, usize),
    dst_rs: usize,
    (m, n, k): (usize, usize, usize),
    lhs: &[f32],
    rhs: &[f32],
    rhs_rs: usize,
    accumulate: bool,
) {
    if m == 0 || n == 0 {
        return;
    }
    assert!(dst_len >= (m - 1) * dst_rs + n && lhs.len() >= m * k, "gemm_into: destination or lhs too small");
    assert!(k == 0 || rhs.len() >= (k - 1) * rhs_rs + n, "gemm_into: rhs too small");
    // SAFETY: every index gemm touches is inside (checked above): dst rows 0..m at stride dst_rs
    // with n columns, lhs m·k elements, rhs k rows of n at rhs_rs.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst,
            1,
            dst_rs as isize,
            accumulate,
            lhs.as_ptr(),
            1,
            k as isize,
            rhs.as_ptr(),
            1,
            rhs_rs as isize,
            if accumulate { 1.0 } else { 0.0 },
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        )
    }
}

/// `cols[c·k² + ky·k + kx, (y − y0)·wo + x] = x[c, y + ky − p, x + kx − p]` for output rows
/// y0..y0+rows of one image (zero outside the image).
fn im2col_band(img: &[f32], g: Geometry, y0: usize, rows: usize, cols: &mut [f32]) {
    let (hw, p, wo) = (g.hw(), g.p, g.wo());
    let bw = rows * wo;
    cols.fill(0.0);
    for c in 0..g.ci {
        let src = &img[c * hw..(c + 1) * hw];
        for ky in 0..g.k {
            for kx in 0..g.k {
                let r = (c * g.k + ky) * g.k + kx;
                let row = &mut cols[r * bw..(r + 1) * bw];
                let lo = p.saturating_sub(kx);
                let hi = (g.w + p).saturating_sub(kx).min(wo);
                if lo >= hi {
                    continue;
                }
                for y in y0..y0 + rows {
                    let sy = y + ky;
                    if sy < p || sy - p >= g.h {
                        continue;
                    }
                    let s = (sy - p) * g.w + lo + kx - p;
                    let d = (y - y0) * wo;
                    row[d + lo..d + hi].copy_from_slice(&src[s..s + hi - lo]);
                }
            }
        }
    }
}

/// A raw output buffer shared by work units that write disjoint regions of it.
#[derive(Clone, Copy)]
struct Out(*mut f32, usize);
// SAFETY: units write disjoint (image, band) regions; the buffer outlives the parallel loop.
unsafe impl Send for Out {}
unsafe impl Sync for Out {}

impl Out {
    /// The band of `len` floats at `start`, to fill (the caller keeps units' bands disjoint).
    #[allow(clippy::mut_from_ref)]
    fn region(&self, start: usize, len: usize) -> &mut [f32] {
        assert!(start + len <= self.1, "Out::region: out of bounds");
        // SAFETY: in bounds (checked); no other unit writes these floats.
        unsafe { std::slice::from_raw_parts_mut(self.0.add(start), len) }
    }
    /// The pointer at `start` and the floats after it, for [`gemm_into`].
    fn at(&self, start: usize) -> (*mut f32, usize) {
        assert!(start <= self.1, "Out::at: out of bounds");
        // SAFETY: start is inside the buffer (checked).
        (unsafe { self.0.add(start) }, self.1 - start)
    }
}

/// `y = W ∗ x + b` for contiguous f32 slices: x [n, ci, h, w], w [co, ci, k, k], b [co] or none;
/// y is [n, co, ho, wo].
fn conv(x: &[f32], w: &[f32], bias: Option<&[f32]>, g: Geometry) -> Vec<f32> {
    let (hw, hwo, rows) = (g.hw(), g.hwo(), g.rows());
    let mut out = vec![0.0f32; g.n * g.co * hwo];
    let dst = Out(out.as_mut_ptr(), out.len());
    g.units().into_par_iter().for_each(|(i, y0, nr)| {
        let bw = nr * g.wo();
        COLUMNS.with_borrow_mut(|cols| {
            cols.resize(rows * bw, 0.0);
            im2col_band(&x[i * g.ci * hw..(i + 1) * g.ci * hw], g, y0, nr, cols);
            // The output band: channel rows of `bw` floats at stride hwo, this unit's alone.
            let start = i * g.co * hwo + y0 * g.wo();
            if let Some(b) = bias {
                for (c, &bc) in b.iter().enumerate() {
                    dst.region(start + c * hwo, bw).fill(bc);
                }
            }
            // SAFETY: the band's rows are written by this unit only; `at` bounds the pointer.
            unsafe { gemm_into(dst.at(start), hwo, (g.co, bw, rows), w, cols, bw, bias.is_some()) };
        });
    });
    out
}

/// The kernel of the input gradient: `w'[ci, co, ky, kx] = w[co, ci, k−1−ky, k−1−kx]`.
fn flipped_transposed(w: &[f32], g: Geometry) -> Vec<f32> {
    let kk = g.k * g.k;
    let mut t = vec![0.0f32; w.len()];
    for o in 0..g.co {
        for c in 0..g.ci {
            for j in 0..kk {
                t[(c * g.co + o) * kk + (kk - 1 - j)] = w[(o * g.ci + c) * kk + j];
            }
        }
    }
    t
}

/// `dW[co, ci·k²] = Σ_units dout[:, band] · cols(x, band)ᵀ`, accumulated per thread, then summed.
fn weight_grad(x: &[f32], dout: &[f32], g: Geometry) -> Vec<f32> {
    let (hw, hwo, rows) = (g.hw(), g.hwo(), g.rows());
    g.units()
        .into_par_iter()
        .fold(
            || vec![0.0f32; g.co * rows],
            |mut acc, (i, y0, nr)| {
                let bw = nr * g.wo();
                COLUMNS.with_borrow_mut(|cols| {
                    cols.resize(rows * bw, 0.0);
                    im2col_band(&x[i * g.ci * hw..(i + 1) * g.ci * hw], g, y0, nr, cols);
                    // dout band as lhs [co, bw] at row stride hwo; colsᵀ as rhs [bw, rows].
                    let d = &dout[i * g.co * hwo + y0 * g.wo()..];
                    gemm_lhs_strided_rhs_t(&mut acc, (g.co, rows, bw), d, hwo, cols);
                });
                acc
            },
        )
        .reduce(
            || vec![0.0f32; g.co * rows],
            |mut a, b| {
                a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
                a
            },
        )
}

/// `acc[m×n] += lhs[m×k] (row stride lhs_rs) · rhsᵀ` where `rhs` is n×k row-major.
fn gemm_lhs_strided_rhs_t(acc: &mut [f32], (m, n, k): (usize, usize, usize), lhs: &[f32], lhs_rs: usize, rhs: &[f32]) {
    if m == 0 || n == 0 || k == 0 {
        return;
    }
    assert!(acc.len() >= m * n && lhs.len() >= (m - 1) * lhs_rs + k && rhs.len() >= n * k, "weight gradient: bounds");
    // SAFETY: acc is m×n row-major, lhs m rows of k at stride lhs_rs, rhs n×k row-major read as
    // its transpose (column stride k, row stride 1); all in bounds (checked above).
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            acc.as_mut_ptr(),
            1,
            n as isize,
            true,
            lhs.as_ptr(),
            1,
            lhs_rs as isize,
            rhs.as_ptr(),
            k as isize,
            1,
            1.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        )
    }
}

fn f32s(t: &FlexTensor) -> FlexTensor {
    t.to_contiguous()
}

fn tensor(data: Vec<f32>, shape: [usize; 4]) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(data, shape.to_vec()))
}

fn geometry(x: &FlexTensor, weight: &FlexTensor, p: usize) -> Geometry {
    let (xs, ws) = (x.shape(), weight.shape());
    Geometry { n: xs[0], ci: xs[1], co: ws[0], h: xs[2], w: xs[3], k: ws[2], p }
}

/// Forward on Flex.
fn forward(x: &FlexTensor, weight: &FlexTensor, bias: Option<&FlexTensor>, p: usize) -> FlexTensor {
    let g = geometry(x, weight, p);
    let (x, w, b) = (f32s(x), f32s(weight), bias.map(f32s));
    let y = conv(x.storage::<f32>(), w.storage::<f32>(), b.as_ref().map(|b| b.storage::<f32>()), g);
    tensor(y, [g.n, g.co, g.ho(), g.wo()])
}

/// The gradients with respect to input, weight and bias that `wanted` asks for, from the output
/// gradient (a frozen module's weights or an input that needs none cost nothing).
fn backward(
    x: FlexTensor,
    weight: FlexTensor,
    grad: FlexTensor,
    p: usize,
    wanted: [bool; 3],
) -> [Option<FlexTensor>; 3] {
    let g = geometry(&x, &weight, p);
    let (x, w, dout) = (f32s(&x), f32s(&weight), f32s(&grad));
    let (x, w, dout) = (x.storage::<f32>(), w.storage::<f32>(), dout.storage::<f32>());
    let dx = wanted[0].then(|| {
        let dx = conv(dout, &flipped_transposed(w, g), None, g.input_gradient());
        tensor(dx, [g.n, g.ci, g.h, g.w])
    });
    let dw = wanted[1].then(|| tensor(weight_grad(x, dout, g), [g.co, g.ci, g.k, g.k]));
    let db = wanted[2].then(|| {
        let hwo = g.hwo();
        let mut db = vec![0.0f32; g.co];
        for i in 0..g.n {
            for (c, s) in db.iter_mut().enumerate() {
                *s += dout[(i * g.co + c) * hwo..(i * g.co + c + 1) * hwo].iter().sum::<f32>();
            }
        }
        FlexTensor::from_data(TensorData::new(db, vec![g.co]))
    });
    [dx, dw, db]
}

/// Whether these primitives can take the Flex path (f32 everywhere).
fn all_f32(ts: &[&FlexTensor]) -> bool {
    ts.iter().all(|t| t.dtype() == DType::F32)
}

/// Inference on Flex with `p` pixels of padding; `None` when the dtypes are not f32 (the caller
/// uses burn's conv).
pub(super) fn conv_flex(x: FlexTensor, weight: FlexTensor, bias: Option<FlexTensor>, p: usize) -> Option<FlexTensor> {
    all_f32(&[&x, &weight]).then_some(())?;
    bias.as_ref().is_none_or(|b| b.dtype() == DType::F32).then(|| forward(&x, &weight, bias.as_ref(), p))
}

/// The backward step of the kernel convolution; its state is the input and weight nodes and the
/// padding.
#[derive(Debug)]
struct ConvBackward;

impl Backward<Flex, 3> for ConvBackward {
    type State = (NodeId, NodeId, usize);

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, checkpointer: &mut Checkpointer) {
        let [node_x, node_w, node_b] = ops.parents;
        let grad = grads.consume::<Flex>(&ops.node);
        let (x_state, w_state, p) = ops.state;
        let x = checkpointer.retrieve_node_output::<FlexTensor>(x_state);
        let weight = checkpointer.retrieve_node_output::<FlexTensor>(w_state);
        let wanted = [node_x.is_some(), node_w.is_some(), node_b.is_some()];
        let [dx, dw, db] = backward(x, weight, grad, p, wanted);
        for (node, g) in [(node_x, dx), (node_w, dw), (node_b, db)] {
            if let (Some(node), Some(g)) = (node, g) {
                grads.register::<Flex>(node.id, g);
            }
        }
    }
}

type AdPrimitive = burn::tensor::ops::FloatTensor<Autodiff<Flex>>;

/// Training on `Autodiff<Flex>`: the forward above, registered with its own backward pass (an
/// absent bias is a constant zero that needs no gradient).
pub(super) fn conv_autodiff(
    x: AdPrimitive,
    weight: AdPrimitive,
    bias: Option<AdPrimitive>,
    p: usize,
) -> Option<AdPrimitive> {
    use burn::tensor::backend::AutodiffBackend;
    if !all_f32(&[&x.primitive, &weight.primitive]) || bias.as_ref().is_some_and(|b| b.primitive.dtype() != DType::F32)
    {
        return None;
    }
    let co = weight.primitive.shape()[0];
    let bias = bias.unwrap_or_else(|| {
        <Autodiff<Flex> as AutodiffBackend>::from_inner(FlexTensor::from_data(TensorData::new(
            vec![0.0f32; co],
            vec![co],
        )))
    });
    let nodes = [x.node.clone(), weight.node.clone(), bias.node.clone()];
    let run = || forward(&x.primitive, &weight.primitive, Some(&bias.primitive), p);
    Some(match ConvBackward.prepare::<NoCheckpointing>(nodes).compute_bound().stateful() {
        OpsKind::Tracked(mut prep) => {
            let state = (prep.checkpoint(&x), prep.checkpoint(&weight), p);
            prep.finish(state, run())
        }
        OpsKind::UnTracked(prep) => prep.finish(run()),
    })
}
