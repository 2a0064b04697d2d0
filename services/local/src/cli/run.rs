//! `gen3d run`: one photo to a model through the local API, as the browser does, with
//! progress per stage.

use super::*;

fn parse_pair(flag: &str, raw: &str) -> anyhow::Result<(f32, f32)> {
    let parts: Vec<&str> = raw.split(',').collect();
    match parts.as_slice() {
        [x, y] => match (x.trim().parse::<f32>(), y.trim().parse::<f32>()) {
            (Ok(x), Ok(y)) if x.is_finite() && y.is_finite() => Ok((x, y)),
            _ => bail!("invalid {flag} {raw:?}: expected two numbers X,Y"),
        },
        _ => bail!("invalid {flag} {raw:?}: expected X,Y"),
    }
}

fn prompt_json(args: &RunArgs) -> anyhow::Result<Value> {
    let mut points = Vec::new();
    for p in &args.points {
        let (x, y) = parse_pair("--point", p)?;
        points.push(json!({"x": x, "y": y, "label": "include"}));
    }
    for p in &args.excludes {
        let (x, y) = parse_pair("--exclude", p)?;
        points.push(json!({"x": x, "y": y, "label": "exclude"}));
    }
    let mut body = json!({ "points": points });
    if let Some(b) = &args.bbox {
        let v: Vec<f32> = b
            .split(',')
            .map(|s| s.trim().parse::<f32>())
            .collect::<Result<_, _>>()
            .map_err(|_| anyhow::anyhow!("invalid --box {b:?}: expected X0,Y0,X1,Y1"))?;
        let [x0, y0, x1, y1] = v[..] else { bail!("invalid --box {b:?}: expected four numbers X0,Y0,X1,Y1") };
        body["box"] = json!({"x0": x0, "y0": y0, "x1": x1, "y1": y1});
    }
    if let Some(t) = args.target_triangles {
        body["target_triangles"] = json!(t);
    }
    if let Some(method) = args.method {
        body["method"] = json!(method);
    }
    Ok(body)
}

pub(super) async fn run(config: LocalConfig, args: RunArgs) -> anyhow::Result<()> {
    if args.mask.is_none() && args.points.is_empty() && args.bbox.is_none() {
        bail!("say what to reconstruct: --point X,Y (or --box, or --mask MASK.png)");
    }
    let photo = read_input(&args.photo, "photo")?;
    let mask = args.mask.as_ref().map(|m| read_input(m, "mask").map(|b| (m.clone(), b))).transpose()?;
    let prompt = if mask.is_none() { Some(prompt_json(&args)?) } else { None };
    let email = EmailAddress::parse(&args.email).map_err(|e| anyhow::anyhow!("--email: {e}"))?;
    std::fs::create_dir_all(&args.out).with_context(|| format!("cannot create output directory {}", args.out.display()))?;
    // Fail before the pipeline runs and the mail goes out, not after.
    let probe = args.out.join(format!(".gen3d-write-test-{}", std::process::id()));
    std::fs::write(&probe, b"").with_context(|| format!("cannot write to output directory {}", args.out.display()))?;
    let _ = std::fs::remove_file(&probe);

    let stack = LocalStack::open(config)?;
    let workers = stack.start_workers()?;
    let principal = Principal { user: UserId::parse("local-cli").expect("constant id"), email };
    let api = ApiClient::new(stack.router(), stack.token(&principal));
    let started = Instant::now();
    let result = drive(&api, &args, photo, mask, prompt, started).await;
    workers.stop().await;
    let object_id = result?;
    let outbox = stack.config.outbox().join(format!("{object_id}-done.eml"));
    println!("email: {}", outbox.display());
    println!("done in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

fn stage(started: Instant, what: &str) {
    println!("[{:>6.2} s] {what}", started.elapsed().as_secs_f64());
}

async fn drive(
    api: &ApiClient,
    args: &RunArgs,
    photo: Vec<u8>,
    mask: Option<(PathBuf, Vec<u8>)>,
    prompt: Option<Value>,
    started: Instant,
) -> anyhow::Result<String> {
    let photo_name = args.photo.display().to_string();
    let created = api.post_json("/v1/sessions", &json!({})).await;
    if created.status != StatusCode::CREATED {
        bail!("cannot create a session: {}", created.error_message());
    }
    let session = created.json()["id"].as_str().unwrap_or_default().to_owned();
    let uploaded = api.call(Method::PUT, &format!("/v1/sessions/{session}/image"), Some("application/octet-stream"), photo).await;
    if uploaded.status != StatusCode::ACCEPTED {
        bail!("{photo_name}: {}", uploaded.error_message());
    }
    let size = &uploaded.json()["image"];
    stage(started, &format!("uploaded {photo_name} ({}x{})", size["width"], size["height"]));

    let object = match (&mask, &prompt) {
        (Some((mask_path, bytes)), _) => {
            let mut params = Vec::new();
            if let Some(t) = args.target_triangles {
                params.push(format!("target_triangles={t}"));
            }
            if let Some(method) = args.method {
                params.push(format!("method={method}"));
            }
            let q = if params.is_empty() { String::new() } else { format!("?{}", params.join("&")) };
            let r = api.call(Method::POST, &format!("/v1/sessions/{session}/objects{q}"), Some("image/png"), bytes.clone()).await;
            if r.status != StatusCode::CREATED {
                bail!("{}: {}", mask_path.display(), r.error_message());
            }
            r.json()
        }
        (None, Some(prompt)) => {
            wait_session_ready(api, &session, started).await?;
            let r = api.post_json(&format!("/v1/sessions/{session}/objects"), prompt).await;
            if r.status != StatusCode::CREATED {
                bail!("{photo_name}: {}", r.error_message());
            }
            r.json()
        }
        (None, None) => bail!("nothing to reconstruct"),
    };
    let object_id = object["id"].as_str().unwrap_or_default().to_owned();
    stage(started, "object submitted");
    let mut last = String::new();
    let deadline = Instant::now() + Duration::from_secs(600);
    let done = loop {
        let r = api.get(&format!("/v1/sessions/{session}/objects/{object_id}")).await;
        let v = r.json();
        let state = v["state"].as_str().unwrap_or("unknown").to_owned();
        if state != last {
            stage(started, &state);
            last = state.clone();
        }
        match state.as_str() {
            "done" => break v,
            "failed" => bail!(
                "reconstruction failed while {}: {}",
                v["failure"]["stage"].as_str().unwrap_or("?"),
                v["failure"]["reason"].as_str().unwrap_or("?")
            ),
            _ if Instant::now() > deadline => {
                bail!("timed out waiting for the object (last state: {state})")
            }
            _ => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    };
    for file in done["files"].as_array().into_iter().flatten() {
        let name = file["name"].as_str().unwrap_or_default();
        let url = file["url"].as_str().unwrap_or_default();
        let r = api.get(url).await;
        if r.status != StatusCode::OK {
            bail!("cannot download {name}: {}", r.error_message());
        }
        let path = args.out.join(name);
        std::fs::write(&path, &r.body).with_context(|| format!("cannot write {}", path.display()))?;
        println!("wrote {} ({} bytes)", path.display(), r.body.len());
    }
    let stats = &done["stats"];
    println!("mesh: {} vertices, {} triangles, watertight: {}", stats["vertices"], stats["triangles"], stats["watertight"]);
    Ok(object_id)
}

async fn wait_session_ready(api: &ApiClient, session: &str, started: Instant) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let v = api.get(&format!("/v1/sessions/{session}")).await.json();
        match v["state"].as_str() {
            Some("ready") => {
                stage(started, "embeddings ready");
                return Ok(());
            }
            Some("failed") => bail!("embedding failed: {}", v["failure"].as_str().unwrap_or("unknown reason")),
            _ if Instant::now() > deadline => bail!("timed out waiting for embeddings"),
            _ => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}
