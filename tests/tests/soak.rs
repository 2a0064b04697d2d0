//! The short soak (CI): 60 objects on the embedded stack with 20% of all port calls
//! failing and 3 runner kills; `make soak` runs the long one (`GEN3D_SOAK_OBJECTS=500`).
//! The invariants are checked inside [`soak_local`]; the figures go to stderr and, with
//! `GEN3D_SOAK_REPORT=FILE`, to a file for docs/reliability.md.

use gen3d_tests::soak::{SoakPlan, soak_local};

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_object_ends_once_under_faults_and_kills() {
    let plan = SoakPlan {
        objects: env_or("GEN3D_SOAK_OBJECTS", 60),
        per_photo: 5,
        users: 4,
        rate: env_or("GEN3D_SOAK_RATE", 0.2),
        kills: env_or("GEN3D_SOAK_KILLS", 3),
        seed: env_or("GEN3D_SOAK_SEED", 2026),
        photo: "dog.jpg",
        click: (150, 420),
    };
    let report = soak_local(plan.clone()).await;
    eprintln!("soak {plan:?}\n{report}");
    if let Ok(path) = std::env::var("GEN3D_SOAK_REPORT") {
        std::fs::write(&path, format!("{plan:?}\n{report}")).expect("report written");
    }
    assert_eq!(report.done + report.failed, report.objects);
    assert!(report.objects >= plan.objects, "{} objects for {} submitted", report.objects, plan.objects);
    assert!(report.done > 0, "some objects come through");
    assert_eq!(report.kills, plan.kills);
    assert!(report.faults.total() > 0, "faults were injected");
}

/// The short soak on the AWS profile against moto: 10 objects at 20% faults (`make soak`
/// runs 100). Every service and the API meet the faults through the AWS adapters.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_object_ends_once_under_faults_on_moto() {
    let Some(moto) = gen3d_tests::moto_url() else { return };
    let plan = SoakPlan {
        objects: env_or("GEN3D_SOAK_AWS_OBJECTS", 10),
        per_photo: 5,
        users: 2,
        rate: env_or("GEN3D_SOAK_RATE", 0.2),
        kills: 0,
        seed: env_or("GEN3D_SOAK_SEED", 2026),
        photo: "dog.jpg",
        click: (150, 420),
    };
    let report = gen3d_tests::soak::soak_aws(&moto, plan.clone()).await;
    eprintln!("soak on moto {plan:?}\n{report}");
    if let Ok(path) = std::env::var("GEN3D_SOAK_AWS_REPORT") {
        std::fs::write(&path, format!("{plan:?}\n{report}")).expect("report written");
    }
    assert_eq!(report.done + report.failed, report.objects);
    assert!(report.objects >= plan.objects);
    assert!(report.done > 0, "some objects come through");
    assert!(report.faults.total() > 0, "faults were injected");
}
