use std::path::Path;

use lifeboat_crm_executor::{Action, AgentSpec, OcfRc, OpStatus};

use crate::support::{OCF_ROOT, executor, request, script};

#[tokio::test]
async fn an_init_script_starts_answers_status_and_stops() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("svc.running");
    let s = state.display();
    script(
        &dir.path().join("init.d/svc"),
        &format!(
            "#!/bin/sh\ncase \"$1\" in\n\
             start) touch {s};;\n\
             stop) rm -f {s};;\n\
             status) [ -e {s} ] && exit 0; exit 3;;\n\
             *) exit 3;;\nesac\nexit 0\n"
        ),
    );
    let exec = executor(dir.path(), Path::new(OCF_ROOT));
    let svc = AgentSpec {
        class: "lsb".into(),
        provider: None,
        kind: "svc".into(),
    };
    let run = |action| {
        let r = request("svc", &svc, action, &[]);
        let exec = &exec;
        async move { exec.execute(&r).await.unwrap() }
    };
    assert_eq!(run(Action::Monitor).await.rc, OcfRc::NotRunning, "status 3");
    assert!(run(Action::Start).await.succeeded());
    assert!(state.exists());
    assert_eq!(run(Action::Monitor).await.rc, OcfRc::Ok);
    assert!(run(Action::Stop).await.succeeded());
    assert_eq!(run(Action::Monitor).await.rc, OcfRc::NotRunning);
    // An unknown action exits 3 too, which for anything but status is "unimplemented".
    assert_eq!(run(Action::Promote).await.rc, OcfRc::Unimplemented);
}

#[tokio::test]
async fn lsb_status_codes_map_as_pacemaker_maps_them() {
    let dir = tempfile::tempdir().unwrap();
    let code = dir.path().join("code");
    script(
        &dir.path().join("init.d/odd"),
        &format!("#!/bin/sh\nexit $(cat {})\n", code.display()),
    );
    let exec = executor(dir.path(), Path::new(OCF_ROOT));
    let odd = AgentSpec {
        class: "lsb".into(),
        provider: None,
        kind: "odd".into(),
    };
    for (exit, rc) in [
        ("1", OcfRc::NotRunning),
        ("4", OcfRc::Generic),
        ("150", OcfRc::NotInstalled),
        ("151", OcfRc::Perm),
    ] {
        std::fs::write(&code, exit).unwrap();
        let result = exec
            .execute(&request("odd", &odd, Action::Monitor, &[]))
            .await
            .unwrap();
        assert_eq!(
            (result.status, result.rc),
            (OpStatus::Done, rc),
            "status exit {exit}"
        );
    }
    let missing = AgentSpec {
        kind: "absent".into(),
        ..odd
    };
    let result = exec
        .execute(&request("a", &missing, Action::Start, &[]))
        .await
        .unwrap();
    assert_eq!(result.status, OpStatus::NotInstalled);
}
