//! A photo travels the whole pipeline on the embedded stack: the acceptance
//! checks for truck, dog and groceries.

use gen3d_media::Mask;
use gen3d_tests::{TestApp, photo_to_object};

const SPLAT_HEADER_PROPERTIES: [&str; 17] =
    ["x", "y", "z", "nx", "ny", "nz", "f_dc_0", "f_dc_1", "f_dc_2", "opacity", "scale_0", "scale_1", "scale_2", "rot_0", "rot_1", "rot_2", "rot_3"];

async fn check_photo(app: &TestApp, photo: &str, x: u32, y: u32) {
    let api = app.user(&format!("{}@example.com", photo.trim_end_matches(".jpg")));
    let (session, done) = photo_to_object(&api, photo, x as f32, y as f32).await;
    assert_eq!(done["state"], "done", "{photo}: {done}");
    let object = done["id"].as_str().unwrap();
    let file = |name: &str| format!("/v1/sessions/{session}/objects/{object}/files/{name}");

    // The mask contains the click, covers 1%..80% and does not touch all four borders.
    let image = image::load_from_memory(&std::fs::read(gen3d_tests::fixture(photo)).unwrap()).unwrap();
    let mask_png = api.get(&file("mask.png")).await.body;
    let mask = Mask::decode_png(&mask_png, image.width(), image.height()).unwrap();
    assert!(mask.get(x, y), "{photo}: the clicked pixel is in the mask");
    let coverage = mask.coverage();
    assert!((0.01..=0.80).contains(&coverage), "{photo}: coverage {coverage}");
    let (x0, y0, x1, y1) = mask.bounds();
    let touches = [x0 == 0, y0 == 0, x1 == image.width() - 1, y1 == image.height() - 1];
    assert!(!touches.iter().all(|&t| t), "{photo}: mask touches all four borders");

    // The splat PLY header is exactly the 17-property 3DGS vertex layout.
    let ply = api.get(&file("splat.ply")).await.body;
    let end = ply.windows(11).position(|w| w == b"end_header\n").unwrap() + 11;
    let header = std::str::from_utf8(&ply[..end]).unwrap();
    let count: usize = header.lines().find_map(|l| l.strip_prefix("element vertex ")).unwrap().parse().unwrap();
    let mut expected = format!("ply\nformat binary_little_endian 1.0\nelement vertex {count}\n");
    for p in SPLAT_HEADER_PROPERTIES {
        expected.push_str(&format!("property float {p}\n"));
    }
    expected.push_str("end_header\n");
    assert_eq!(header, expected);
    assert_eq!(ply.len() - end, count * 68);

    // The GLB loads with a glTF parser: > 1000 triangles, vertex colours.
    let glb = api.get(&file("mesh.glb")).await.body;
    let (gltf, buffers, _) = gltf::import_slice(&glb).expect("valid glb");
    let prim = gltf.meshes().next().unwrap().primitives().next().unwrap();
    let reader = prim.reader(|b| Some(&buffers[b.index()]));
    let triangles = reader.read_indices().unwrap().into_u32().count() / 3;
    assert!(triangles > 1_000, "{photo}: {triangles} triangles");
    let colours: Vec<[f32; 3]> = reader.read_colors(0).expect("vertex colours").into_rgb_f32().collect();
    assert_eq!(colours.len(), reader.read_positions().unwrap().count());
    assert!(done["stats"]["triangles"].as_u64().unwrap() as usize == triangles);

    // The object's pose: in the API and, as the same numbers, in the GLB's scene extras.
    let pose = &done["pose"];
    assert!(pose["scale"].as_f64().unwrap() > 0.0 && pose["translation"][2].as_f64().unwrap() > 0.0, "{photo}: {pose}");
    let json_len = u32::from_le_bytes(glb[12..16].try_into().unwrap()) as usize;
    let gltf_json: serde_json::Value = serde_json::from_slice(&glb[20..20 + json_len]).unwrap();
    assert_eq!(&gltf_json["scenes"][0]["extras"]["gen3d"]["pose"], pose, "{photo}: the GLB carries the pose");

    // Every mesh format is offered and downloads, and the object's picture.
    let names: Vec<&str> = done["files"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["mask.png", "splat.ply", "mesh.glb", "mesh.obj", "mesh.ply", "mesh.stl", "thumb.png"]);
    let stl = api.get(&file("mesh.stl")).await.body;
    assert_eq!(stl.len(), 84 + 50 * triangles, "binary STL of the same triangles");
    let obj = api.get(&file("mesh.obj")).await.body;
    assert_eq!(obj.split(|&b| b == b'\n').filter(|l| l.starts_with(b"f ")).count(), triangles);

    // The user was mailed (and the admin got a copy).
    app.wait_mail(&format!("{object}-done.eml")).await;
    let outbox = app.outbox();
    assert!(outbox.iter().any(|p| p.ends_with(format!("{object}-done-admin.eml"))), "{outbox:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truck_dog_and_groceries_become_meshes() {
    let app = TestApp::start();
    check_photo(&app, "truck.jpg", 500, 375).await;
    check_photo(&app, "dog.jpg", 150, 420).await;
    check_photo(&app, "groceries.jpg", 408, 267).await;
}
