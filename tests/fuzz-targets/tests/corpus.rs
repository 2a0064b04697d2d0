//! Writes the seed corpus `fuzz/corpus/<target>/` from Gen3D's own writers:
//! `cargo test -p gen3d-fuzz-targets --test corpus -- --ignored`. The files are committed;
//! crashes found later are added next to them.

use gen3d_media::{Embeddings, Mask, Splat, SplatCloud};
use image::{ImageFormat, Rgb, RgbImage};

fn write(target: &str, name: &str, bytes: &[u8]) {
    let dir = gen3d_testkit::repo().join("fuzz/corpus").join(target);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(name), bytes).unwrap();
}

fn encoded(img: &image::DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut out), format).unwrap();
    out
}

#[test]
#[ignore = "writes the committed corpus"]
fn write_corpus() {
    let rgb = image::DynamicImage::ImageRgb8(RgbImage::from_fn(16, 12, |x, y| Rgb([(x * 16) as u8, (y * 20) as u8, 128])));
    write("photo", "tiny.jpg", &encoded(&rgb, ImageFormat::Jpeg));
    write("photo", "tiny.png", &encoded(&rgb, ImageFormat::Png));
    write("photo", "tiny16.png", &encoded(&image::DynamicImage::ImageRgba16(rgb.to_rgba16()), ImageFormat::Png));
    write("photo", "tiny.webp", &encoded(&rgb, ImageFormat::WebP));

    let mask = Mask::new(16, 12, (0..16 * 12).map(|i| i % 16 > 4 && i / 16 > 3).collect()).unwrap();
    let mut sized = vec![15u8, 0, 11, 0]; // 16 x 12
    sized.extend(mask.encode_png());
    write("mask_png", "16x12.bin", &sized);

    let splats = (0..4)
        .map(|i| Splat {
            position: [i as f32 * 0.1, 0.0, 0.5],
            f_dc: [0.2, -0.1, 0.3],
            opacity: 2.0,
            scale: [-4.0, -4.0, -6.0],
            rotation: [1.0, 0.0, 0.0, 0.0],
        })
        .collect();
    write("splat_ply", "four.ply", &SplatCloud { splats }.write_ply());

    let zeros = |shape: [usize; 4]| vec![0.0f32; shape.iter().product()];
    let e = Embeddings::new(zeros(gen3d_media::EMBED_SHAPE), zeros(gen3d_media::HIGH_RES_0_SHAPE), zeros(gen3d_media::HIGH_RES_1_SHAPE)).unwrap();
    write("embeddings", "zeros.g3e", &e.encode());

    write("queue_message", "embed.json", br#"{"v":1,"type":"embed_requested","user":"u1","session":"s1"}"#);
    write(
        "queue_message",
        "s3_event.json",
        br#"{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"users/u1/sessions/s1/image","size":10}}}]}"#,
    );
    write(
        "queue_message",
        "sagemaker.json",
        br#"{"awsRegion":"eu-west-1","eventTime":"2026-01-01T00:00:00Z","receivedTime":"2026-01-01T00:00:00Z","invocationStatus":"Completed","requestParameters":{"endpointName":"e","inputLocation":"s3://b/users/u1/sessions/s1/embed.request.json"},"responseParameters":{"outputLocation":"s3://b/inference/output/x.out"},"inferenceId":"embed-s1","eventVersion":"1.0","eventSource":"aws:sagemaker","eventName":"InferenceResult"}"#,
    );
    write("queue_message", "sns.json", br#"{"Type":"Notification","Message":"{\"Event\":\"s3:TestEvent\"}"}"#);

    write("request_document", "embed.json", br#"{"task":"embed","image":"users/u/sessions/s/image","output":"users/u/sessions/s/embeddings.g3e"}"#);
    write(
        "request_document",
        "mesh.json",
        br#"{"task":"mesh","splat":"users/u/sessions/s/objects/o/splat.ply","output":"users/u/sessions/s/objects/o/mesh.glb","options":{"method":"poisson","target_triangles":5000,"format":"glb"}}"#,
    );
    write(
        "request_document",
        "reconstruct.json",
        br#"{"task":"reconstruct","image":"users/u/sessions/s/image","mask":"users/u/sessions/s/objects/o/mask.png","output":"users/u/sessions/s/objects/o/splat.ply","seed":3}"#,
    );

    let other = gen3d_intake::LocalAuth::new(vec![9; 32]);
    let p = gen3d_intake::Principal {
        user: gen3d_domain::UserId::parse("u1").unwrap(),
        email: gen3d_domain::EmailAddress::parse("a@b.example").unwrap(),
    };
    write("local_token", "other_secret.txt", other.issue(&p).as_bytes());
    write("local_token", "forged.txt", b"g3d1.e30.AAAA");

    write("prompt_json", "points.json", br#"{"points":[{"x":10,"y":20,"label":"include"},{"x":30,"y":40,"label":"exclude"}]}"#);
    write("prompt_json", "box.json", br#"{"points":[],"box":{"x0":1,"y0":2,"x1":300,"y1":400}}"#);

    write("email", "plain.txt", b"Ann.Lee@Example.com");
    write("email", "odd.txt", b"a@b@c..d");
}
