//! Contact sheets for labelling: a self-contained HTML page (frames embedded as base64 PNG, inline
//! CSS and JavaScript, no network) showing frames sampled across a video and stratified over a
//! score range, each as a crop around the planet disc, where the user marks frames good or bad and
//! downloads `picks.csv` (`frame,label`, 1 good / 0 bad) for `train-ranker --labels`.

use base64::Engine as _;
use std::fmt::Write as _;
use std::path::Path;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use crate::error::{FrameError, Result};
use crate::io::FrameSource;
use crate::pixels::ImageView;
use crate::ranking::disc::detect_disc;

/// Default number of frames on a sheet.
pub const DEFAULT_SHEET_FRAMES: usize = 60;
/// Most frames a sheet may hold (the page embeds every crop).
pub const MAX_SHEET_FRAMES: usize = 1000;
/// Side of the disc crop in disc radii.
pub const CROP_RADII: f32 = 2.6;

/// Choose `n` frames stratified over `scores`: frames are sorted by score and cut into `n`
/// equal-count strata (best to worst), and one frame is drawn at random (seeded) from each, so
/// sharp and poor frames are both shown. Returned in video order (the page does not reveal the scores).
pub fn sheet_frames(scores: &[f32], n: usize, seed: u64) -> Vec<usize> {
    let len = scores.len();
    let n = n.min(len);
    if n == 0 {
        return Vec::new();
    }
    let order = crate::ranking::rank::order_best_first(scores);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut out: Vec<usize> = (0..n)
        .map(|k| {
            let (a, b) = (k * len / n, (k + 1) * len / n);
            order[a + rng.random_range(0..b - a)]
        })
        .collect();
    out.sort_unstable();
    out
}

/// One frame of the sheet: its index and the crop as PNG bytes.
#[derive(Debug, Clone)]
pub struct SheetFrame {
    /// 0-based frame index in the video.
    pub index: usize,
    /// Crop as PNG (8-bit grey or RGB).
    pub png: Vec<u8>,
    /// Crop width in pixels.
    pub width: usize,
    /// Crop height in pixels.
    pub height: usize,
}

/// The square crop around the detected disc (the whole frame when no disc is found): (x, y, w, h).
pub fn disc_crop_box(luma: ImageView<'_>) -> (usize, usize, usize, usize) {
    let (w, h) = (luma.width, luma.height);
    match detect_disc(luma) {
        Some(d) => {
            let side = ((CROP_RADII * d.radius).ceil() as usize).max(16).min(w.min(h));
            let x = ((d.cx - side as f32 / 2.0).round().max(0.0) as usize).min(w - side);
            let y = ((d.cy - side as f32 / 2.0).round().max(0.0) as usize).min(h - side);
            (x, y, side, side)
        }
        None => (0, 0, w, h),
    }
}

fn percentile(v: &mut [f32], p: f32) -> f32 {
    if v.is_empty() {
        return 0.0;
    }
    let k = ((v.len() - 1) as f32 * p).round() as usize;
    let (_, x, _) = v.select_nth_unstable_by(k, |a, b| a.total_cmp(b));
    *x
}

/// Render the crops of `frames`: disc crops at full resolution, stretched with one white level for
/// the whole sheet (the largest of the crops' 99.9th percentiles, so that the sharpest frames, whose
/// peaks are highest, do not clip) so brightness stays comparable.
pub fn render_frames(source: &dyn FrameSource, frames: &[usize]) -> Result<Vec<SheetFrame>> {
    let crops: Vec<(usize, astro_image::Planes, f32)> = frames
        .par_iter()
        .map(|&i| {
            let p = source.read_planes(i)?;
            let luma = p.to_luma();
            let (x, y, w, h) = disc_crop_box(ImageView::new(&luma.data, p.width, p.height));
            let c = p.crop(x, y, w, h)?;
            let mut samples = c.data.clone();
            let white = percentile(&mut samples, 0.999);
            Ok((i, c, white))
        })
        .collect::<Result<_>>()?;
    let white = crops.iter().map(|c| c.2).filter(|w| w.is_finite()).fold(0f32, f32::max).max(1e-6);
    crops
        .into_par_iter()
        .map(|(index, c, _)| {
            let (w, h) = (c.width, c.height);
            let q = |v: f32| ((v / white).clamp(0.0, 1.0) * 255.0).round() as u8;
            let img = if c.channels >= 3 {
                let mut buf = Vec::with_capacity(w * h * 3);
                for k in 0..w * h {
                    buf.extend((0..3).map(|ch| q(c.data[ch * w * h + k])));
                }
                image::DynamicImage::ImageRgb8(image::RgbImage::from_raw(w as u32, h as u32, buf).expect("rgb size"))
            } else {
                let buf: Vec<u8> = c.data[..w * h].iter().map(|&v| q(v)).collect();
                image::DynamicImage::ImageLuma8(image::GrayImage::from_raw(w as u32, h as u32, buf).expect("grey size"))
            };
            let mut png = std::io::Cursor::new(Vec::new());
            img.write_to(&mut png, image::ImageFormat::Png)
                .map_err(|e| FrameError::Invalid(format!("{}: frame {index}: PNG encoding: {e}", source.name())))?;
            Ok(SheetFrame { index, png: png.into_inner(), width: w, height: h })
        })
        .collect()
}

const CSS: &str = r#"
body{font-family:system-ui,sans-serif;margin:0;background:#15171c;color:#ddd}
header{position:sticky;top:0;z-index:2;background:#20232b;padding:8px 14px;border-bottom:1px solid #333;display:flex;flex-wrap:wrap;gap:8px 18px;align-items:center}
header h1{font-size:16px;margin:0;font-weight:600}
#help{font-size:12px;color:#aaa}
#counter{font-weight:600}
button{background:#2d3240;color:#ddd;border:1px solid #555;border-radius:4px;padding:3px 9px;cursor:pointer}
button:hover{background:#3a4152}
#grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(190px,1fr));gap:10px;padding:12px}
.tile{margin:0;background:#1d2027;border:3px solid #333;border-radius:6px;padding:4px;outline:none}
.tile.cur{box-shadow:0 0 0 2px #9cf}
.tile.good{border-color:#3c3}
.tile.bad{border-color:#d33}
.tile img{display:block;width:100%;aspect-ratio:1/1;object-fit:contain;background:#000;cursor:zoom-in}
.tile figcaption{display:flex;justify-content:space-between;align-items:center;font-size:13px;margin-top:4px}
.tile .mark{font-weight:600;min-width:3em}
.tile.good .mark{color:#3c3}.tile.bad .mark{color:#e55}
#zoom{position:fixed;inset:0;background:rgba(0,0,0,.9);z-index:5;display:flex;flex-direction:column;align-items:center;justify-content:center;overflow:auto}
#zoom[hidden]{display:none}
#zoom img{image-rendering:pixelated;cursor:zoom-out;border:3px solid #333}
#zoom.good img{border-color:#3c3}#zoom.bad img{border-color:#d33}
#zoom-caption{margin-top:8px;font-size:14px}
#csv{white-space:pre;font-size:12px;padding:0 14px;color:#8a8}
"#;

const JS: &str = r#"
(function(){
var tiles=[].slice.call(document.querySelectorAll('.tile'));
var labels=tiles.map(function(){return null;});
var cur=0, zoomed=false, scale=1;
var key='picks:'+document.body.dataset.video+':'+tiles.map(function(t){return t.dataset.frame;}).join(',');
try{var saved=JSON.parse(localStorage.getItem(key)||'null');if(saved&&saved.length===labels.length)labels=saved;}catch(e){}
function save(){try{localStorage.setItem(key,JSON.stringify(labels));}catch(e){}}
function paint(i){var t=tiles[i],l=labels[i];t.classList.toggle('good',l===1);t.classList.toggle('bad',l===0);
 t.querySelector('.mark').textContent=l===1?'good':l===0?'bad':'';}
function count(){var g=0,b=0;labels.forEach(function(l){if(l===1)g++;else if(l===0)b++;});
 document.getElementById('counter').textContent=g+' good · '+b+' bad · '+(labels.length-g-b)+' unmarked of '+labels.length;
 document.getElementById('counter').dataset.good=g;document.getElementById('counter').dataset.bad=b;}
function select(i){if(i<0||i>=tiles.length)return;tiles[cur].classList.remove('cur');cur=i;tiles[cur].classList.add('cur');
 if(zoomed)showZoom();else tiles[cur].scrollIntoView({block:'nearest'});}
function mark(i,l){labels[i]=(labels[i]===l&&l!==null)?null:l;paint(i);count();save();if(zoomed)showZoom();}
function setMark(i,l){labels[i]=l;paint(i);count();save();if(zoomed)showZoom();}
function showZoom(){var t=tiles[cur],img=t.querySelector('img'),z=document.getElementById('zoom'),zi=document.getElementById('zoom-img');
 zi.src=img.src;zi.width=img.dataset.w*scale;zi.height=img.dataset.h*scale;
 z.classList.toggle('good',labels[cur]===1);z.classList.toggle('bad',labels[cur]===0);
 document.getElementById('zoom-caption').textContent='frame '+t.dataset.frame+' ('+(cur+1)+'/'+tiles.length+', '+scale+'×)'+
  (labels[cur]===1?' · good':labels[cur]===0?' · bad':'')+' — g/1 good, b/0 bad, u unmark, ←/→ move, z 1×/2×, Esc close';
 z.hidden=false;zoomed=true;}
function closeZoom(){document.getElementById('zoom').hidden=true;zoomed=false;scale=1;tiles[cur].scrollIntoView({block:'nearest'});}
function csv(){var s='frame,label\n';tiles.forEach(function(t,i){if(labels[i]!==null)s+=t.dataset.frame+','+labels[i]+'\n';});return s;}
window.picksCsv=csv;
function download(){var s=csv();document.getElementById('csv').textContent=s;
 var a=document.createElement('a');a.href=URL.createObjectURL(new Blob([s],{type:'text/csv'}));a.download='picks.csv';
 document.body.appendChild(a);a.click();setTimeout(function(){URL.revokeObjectURL(a.href);a.remove();},1000);}
tiles.forEach(function(t,i){
 t.querySelector('img').addEventListener('click',function(){select(i);scale=1;showZoom();});
 t.querySelector('.good').addEventListener('click',function(e){e.stopPropagation();this.blur();select(i);mark(i,1);});
 t.querySelector('.bad').addEventListener('click',function(e){e.stopPropagation();this.blur();select(i);mark(i,0);});
 t.addEventListener('click',function(){select(i);});
 paint(i);});
document.getElementById('zoom-img').addEventListener('click',function(e){e.stopPropagation();scale=scale===1?2:1;showZoom();});
document.getElementById('zoom').addEventListener('click',closeZoom);
document.getElementById('download').addEventListener('click',download);
document.getElementById('clear').addEventListener('click',function(){if(confirm('Unmark every frame?')){labels=labels.map(function(){return null;});tiles.forEach(function(t,i){paint(i);});count();save();}});
document.addEventListener('keydown',function(e){
 if(e.ctrlKey||e.metaKey||e.altKey)return;
 var k=e.key,cols=Math.max(1,Math.round(document.getElementById('grid').clientWidth/tiles[0].offsetWidth));
 if(k==='g'||k==='1'){setMark(cur,1);}
 else if(k==='b'||k==='0'){setMark(cur,0);}
 else if(k==='u'||k==='Backspace'||k==='Delete'){setMark(cur,null);}
 else if(k==='ArrowRight'||k==='j'||k===' '){select(cur+1);}
 else if(k==='ArrowLeft'||k==='k'){select(cur-1);}
 else if(k==='ArrowDown'&&!zoomed){select(Math.min(tiles.length-1,cur+cols));}
 else if(k==='ArrowUp'&&!zoomed){select(Math.max(0,cur-cols));}
 else if(k==='z'||k==='Enter'){if(!zoomed){scale=1;showZoom();}else{scale=scale===1?2:1;showZoom();}}
 else if(k==='Escape'){if(zoomed)closeZoom();}
 else return;
 e.preventDefault();});
tiles[0].classList.add('cur');count();
})();
"#;

/// The HTML page for rendered frames of the video `video_name` (which has `total` frames).
pub fn sheet_html(video_name: &str, total: usize, frames: &[SheetFrame]) -> String {
    let name = html_escape::encode_quoted_attribute(video_name);
    let mut h = String::with_capacity(frames.iter().map(|f| f.png.len() * 4 / 3 + 400).sum::<usize>() + 8000);
    let _ = write!(
        h,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data: blob:; style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\
         <title>Pick frames: {name}</title><style>{CSS}</style></head>\n<body data-video=\"{name}\">\n<header>\
         <h1>{name}</h1><span id=\"counter\"></span>\
         <button id=\"download\">Download picks.csv</button><button id=\"clear\">Unmark all</button>\
         <span id=\"help\">{n} of {total} frames, spread over the quality range, in video order. \
         Click a frame to enlarge it (click again for 2×); <b>g</b>/<b>1</b> good, <b>b</b>/<b>0</b> bad, \
         <b>u</b> unmark, <b>←/→</b> or <b>j/k</b> move, <b>z</b> zoom, <b>Esc</b> close. Mark at least 6 frames, \
         some good and some bad; then <code>train-ranker VIDEO --labels picks.csv -o model.json</code>.</span>\
         </header>\n<main id=\"grid\">\n",
        n = frames.len()
    );
    for f in frames {
        let _ = writeln!(
            h,
            "<figure class=\"tile\" data-frame=\"{i}\" tabindex=\"-1\"><img alt=\"frame {i}\" data-w=\"{w}\" data-h=\"{ht}\" \
             src=\"data:image/png;base64,{b64}\"><figcaption><span>#{i}</span><span class=\"mark\"></span>\
             <span><button class=\"good\" title=\"good (g)\">good</button> <button class=\"bad\" title=\"bad (b)\">bad</button></span>\
             </figcaption></figure>",
            i = f.index,
            w = f.width,
            ht = f.height,
            b64 = base64::engine::general_purpose::STANDARD.encode(&f.png)
        );
    }
    let _ = write!(
        h,
        "</main>\n<div id=\"zoom\" hidden><img id=\"zoom-img\" alt=\"enlarged frame\"><div id=\"zoom-caption\"></div></div>\n\
         <pre id=\"csv\"></pre>\n<script>{JS}</script>\n</body></html>\n"
    );
    h
}

/// Write the contact sheet of `n` frames of `source` stratified over `scores` to `path` (atomically);
/// returns the frame indices shown.
pub fn write_contact_sheet(source: &dyn FrameSource, scores: &[f32], n: usize, path: &Path) -> Result<Vec<usize>> {
    if n == 0 || n > MAX_SHEET_FRAMES {
        return Err(FrameError::Invalid(format!("--sheet-frames {n}: must be 1–{MAX_SHEET_FRAMES}")));
    }
    if scores.len() != source.len() {
        return Err(FrameError::Invalid(format!(
            "{}: {} scores for {} frames",
            source.name(),
            scores.len(),
            source.len()
        )));
    }
    let frames = sheet_frames(scores, n, 0x5eed);
    let rendered = render_frames(source, &frames)?;
    let page = sheet_html(&source.name(), source.len(), &rendered);
    astro_image::image_io::write_atomic(path, page.as_bytes())?;
    Ok(frames)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strata_cover_the_score_range_and_are_in_video_order() {
        let scores: Vec<f32> = (0..300).map(|i| ((i * 37) % 300) as f32).collect();
        let f = sheet_frames(&scores, 60, 1);
        assert_eq!(f.len(), 60);
        assert!(f.windows(2).all(|w| w[0] < w[1]), "sorted, distinct");
        // One frame per stratum of 5 frames: the chosen scores' ranks hit every stratum once.
        let mut strata: Vec<usize> = f.iter().map(|&i| (299 - scores[i] as usize) / 5).collect();
        strata.sort_unstable();
        assert_eq!(strata, (0..60).collect::<Vec<_>>());
        assert_eq!(sheet_frames(&scores, 60, 1), f, "deterministic");
        assert_eq!(sheet_frames(&scores[..10], 60, 1), (0..10).collect::<Vec<_>>());
        assert!(sheet_frames(&[], 5, 1).is_empty());
    }

    #[test]
    fn page_is_self_contained_and_escapes_the_name() {
        let f = SheetFrame { index: 7, png: vec![1, 2, 3], width: 4, height: 4 };
        let h = sheet_html("a<b>&\"c.ser", 10, &[f]);
        assert!(h.contains("a&lt;b&gt;&amp;&quot;c.ser") && !h.contains("a<b>"));
        assert!(h.contains("data-frame=\"7\"") && h.contains("data:image/png;base64,AQID"));
        assert!(!h.contains("http://") && !h.contains("https://") && !h.contains("src=\"/"), "no network");
    }

    #[test]
    fn crop_box_is_square_around_the_disc_and_inside_the_frame() {
        let (w, h) = (200, 120);
        let img: Vec<f32> = (0..w * h)
            .map(|i| {
                let (x, y) = ((i % w) as f32, (i / w) as f32);
                if ((x - 170.0).powi(2) + (y - 60.0).powi(2)).sqrt() < 20.0 { 0.8 } else { 0.02 }
            })
            .collect();
        let (x, y, cw, ch) = disc_crop_box(ImageView::new(&img, w, h));
        assert_eq!(cw, ch);
        assert!((50..=54).contains(&cw), "{cw}");
        assert!(x + cw <= w && y + ch <= h);
        assert!(x <= 150 && x + cw >= 190, "disc inside the crop: x {x}");
        assert_eq!(disc_crop_box(ImageView::new(&vec![0.0; w * h], w, h)), (0, 0, w, h));
    }
}
