//! Segments a photo with the built-in models and writes an overlay PNG to look at:
//! `cargo run -p gen3d-models --example segment -- PHOTO X,Y[,exclude] ... OUT.png`
use std::time::Instant;

use gen3d_domain::{Point, PointLabel, Prompt};
use gen3d_media::decode_photo;
use gen3d_models::decoder::{Decoder, PromptTensors};
use image::{Rgb, RgbImage, imageops};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let photo = decode_photo(&std::fs::read(&args[0]).expect("read photo")).expect("decode photo");
    let points: Vec<Point> = args[1..args.len() - 1]
        .iter()
        .map(|a| {
            let v: Vec<&str> = a.split(',').collect();
            let label = if v.get(2) == Some(&"exclude") { PointLabel::Exclude } else { PointLabel::Include };
            Point { x: v[0].parse().unwrap(), y: v[1].parse().unwrap(), label }
        })
        .collect();
    let (w, h) = (photo.width(), photo.height());
    let t = Instant::now();
    let emb = gen3d_models::encoder::encode(&photo);
    eprintln!("encode {:?}", t.elapsed());
    let decoder = Decoder::builtin();
    let prompt = Prompt::new(points.clone(), None, w, h).unwrap();
    let tensors = PromptTensors::new(&prompt, w, h);
    let t = Instant::now();
    let out = decoder.run(&emb, &tensors, None).unwrap();
    eprintln!("decode (first, incl. plan) {:?}", t.elapsed());
    let t = Instant::now();
    let out2 = decoder.run(&emb, &tensors, None).unwrap();
    eprintln!("decode {:?} iou {:?} best {}", t.elapsed(), out2.iou_predictions, out2.best());
    let mut panels = Vec::new();
    for k in 0..3 {
        let mask = match out.mask(k, w, h) {
            Ok(m) => m,
            Err(e) => {
                eprintln!("candidate {k}: {e}");
                continue;
            }
        };
        eprintln!("candidate {k}: coverage {:.3} bounds {:?}", mask.coverage(), mask.bounds());
        let mut img = photo.rgb.clone();
        for (x, y, p) in img.enumerate_pixels_mut() {
            if !mask.get(x, y) {
                *p = Rgb(p.0.map(|c| c / 3));
            }
        }
        for pt in &points {
            for dy in -4i32..=4 {
                for dx in -4i32..=4 {
                    let (x, y) = (pt.x as i32 + dx, pt.y as i32 + dy);
                    if x >= 0 && y >= 0 && (x as u32) < w && (y as u32) < h {
                        img.put_pixel(x as u32, y as u32, if pt.label == PointLabel::Include { Rgb([0, 255, 0]) } else { Rgb([255, 0, 0]) });
                    }
                }
            }
        }
        panels.push(imageops::resize(&img, 480, 480 * h / w, imageops::FilterType::Triangle));
    }
    let ph = panels[0].height();
    let mut sheet = RgbImage::new(480 * panels.len() as u32, ph);
    for (i, p) in panels.iter().enumerate() {
        imageops::replace(&mut sheet, p, i as i64 * 480, 0);
    }
    sheet.save(args.last().unwrap()).unwrap();
}
