use super::*;

#[test]
fn uris_name_the_driver_and_the_socket() {
    let (path, name) = socket_for("qemu+unix:///system?socket=/tmp/x.sock");
    assert_eq!(path, PathBuf::from("/tmp/x.sock"));
    assert_eq!(name, "qemu:///system");
    assert_eq!(socket_for("test:///default").1, "test:///default");
}

#[test]
fn a_lifecycle_message_decodes() {
    let mut w = Writer::default();
    w.u32(7).string("vm1");
    w.0.extend_from_slice(&[
        0x5c, 0x3f, 0x4b, 0x3e, 0x6d, 0x0e, 0x4b, 0x8f, 0x9a, 0x43, 0x0e, 0x6f, 0x1d, 0x2a, 0x7b,
        0x10,
    ]);
    w.u32(3).u32(5).u32(1);
    let e = decode_event(318, &w.0).unwrap().unwrap();
    assert_eq!(e.uuid, "5c3f4b3e-6d0e-4b8f-9a43-0e6f1d2a7b10");
    assert_eq!(
        (e.event_id, e.kind, e.detail, e.domain.as_str()),
        (0, 5, 1, "vm1")
    );
    assert!(decode_event(999, &w.0).unwrap().is_none());
    assert!(decode_event(318, &w.0[..10]).is_err());
}

fn vm1() -> DomainRef {
    DomainRef {
        name: "vm1".into(),
        uuid: [
            0x5c, 0x3f, 0x4b, 0x3e, 0x6d, 0x0e, 0x4b, 0x8f, 0x9a, 0x43, 0x0e, 0x6f, 0x1d, 0x2a,
            0x7b, 0x10,
        ],
        id: 7,
    }
}

#[test]
fn the_agent_command_is_domain_command_timeout_flags() {
    let args = agent_command_args(&vm1(), r#"{"execute":"guest-ping"}"#, 2);
    let mut want = vec![0, 0, 0, 3, b'v', b'm', b'1', 0];
    want.extend_from_slice(&vm1().uuid);
    want.extend_from_slice(&[0, 0, 0, 7]);
    want.extend_from_slice(&[0, 0, 0, 24]);
    want.extend_from_slice(br#"{"execute":"guest-ping"}"#);
    want.extend_from_slice(&[0, 0, 0, 2, 0, 0, 0, 0]);
    assert_eq!(args, want);
    let call = frame(QEMU_PROGRAM, QEMU_VERSION, 3, TYPE_CALL, 9, &args);
    assert_eq!(
        &call[..12],
        &[0, 0, 0, 92, 0x20, 0x00, 0x80, 0x87, 0, 0, 0, 1]
    );
    assert_eq!(
        &call[12..28],
        &[0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0]
    );
}

#[test]
fn a_running_domain_list_decodes() {
    assert_eq!(list_running_args(), vec![0, 0, 0, 1, 0, 0, 0, 16]);
    let mut w = Writer::default();
    w.u32(2);
    vm1().write(&mut w);
    DomainRef {
        name: "instance-0000000a".into(),
        uuid: [1; 16],
        id: 12,
    }
    .write(&mut w);
    w.u32(2);
    let list = decode_domain_list(&w.0).unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0], vm1());
    assert_eq!(
        list[0].uuid_string(),
        "5c3f4b3e-6d0e-4b8f-9a43-0e6f1d2a7b10"
    );
    assert_eq!(
        (list[1].name.as_str(), list[1].id),
        ("instance-0000000a", 12)
    );
    assert!(decode_domain_list(&w.0[..20]).is_err());
}

#[test]
fn read_write_sockets_drop_the_ro_suffix() {
    let (path, _) = rw_socket_for("qemu:///system");
    assert!(!path.display().to_string().ends_with("-ro"), "{path:?}");
    let (path, _) = rw_socket_for("qemu:///system?socket=/tmp/s");
    assert_eq!(path, PathBuf::from("/tmp/s"));
}
