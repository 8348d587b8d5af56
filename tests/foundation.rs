//! The happy path and the node's start-up rules.

use fedlink_proto::pb;

use crate::util::{NodeProcess, TestFederation, audit_entries, run, runtime, text};

const NODES: [&str; 4] = ["police", "icb", "council-east", "council-west"];

#[test]
fn describe_reaches_every_node_and_every_log_verifies() {
    let fed = TestFederation::new();
    let mut nodes: Vec<_> = NODES.iter().map(|n| fed.start_node(n)).collect();

    let out = run(&[
        "coordinator",
        "describe",
        "--config",
        fed.coordinator_config().to_str().expect("utf8"),
    ]);
    let shown = text(&out);
    assert!(out.status.success(), "{shown}");
    for node in NODES {
        let line = String::from_utf8_lossy(&out.stdout)
            .lines()
            .find(|l| l.starts_with(node))
            .map(str::to_string)
            .unwrap_or_else(|| panic!("no row for {node}: {shown}"));
        assert!(line.contains(" up "), "{line}");
        assert!(line.contains("verified @"), "{line}");
    }
    assert!(shown.contains("4 of 4 nodes answered"), "{shown}");

    // A second describe proves consistency from the size the coordinator last saw.
    let again = run(&[
        "coordinator",
        "describe",
        "--config",
        fed.coordinator_config().to_str().expect("utf8"),
    ]);
    assert!(again.status.success(), "{}", text(&again));

    for node in &mut nodes {
        assert!(node.stop(), "node {} did not stop cleanly on SIGTERM", node.name);
    }
    for member in NODES.iter().chain(["coordinator"].iter()) {
        let out = fed.verify_log(member);
        assert!(out.status.success(), "{member}: {}", text(&out));
        assert!(String::from_utf8_lossy(&out.stdout).contains("OK"), "{}", text(&out));
    }

    // Each node logged: start-up, then per describe a request and a disclosure.
    let police = audit_entries(&fed.audit_log("police"));
    let kinds: Vec<i32> = police.iter().map(|e| e.event_type).collect();
    assert_eq!(
        kinds,
        vec![
            pb::EventType::ServiceStart as i32,
            pb::EventType::Consultation as i32,
            pb::EventType::Disclosure as i32,
            pb::EventType::Consultation as i32,
            pb::EventType::Disclosure as i32,
        ]
    );
    let request = &police[1];
    let query = request.query.as_ref().expect("query record");
    assert_eq!(query.purpose, "SERVICE-CHECK");
    assert_eq!(query.lawful_basis.as_ref().map(|b| b.gateway.as_str()), Some("CDA s115"));
    assert_eq!(request.actor.as_ref().map(|a| a.member.as_str()), Some("coordinator"));
    assert_eq!(police[2].request_index, Some(1));

    // The coordinator logged each query before sending it, and each verified receipt.
    let coordinator = audit_entries(&fed.audit_log("coordinator"));
    let issued =
        coordinator.iter().filter(|e| e.event_type == pb::EventType::QueryIssued as i32).count();
    let received =
        coordinator.iter().filter(|e| e.event_type == pb::EventType::ResultReceived as i32).count();
    assert_eq!((issued, received), (8, 8));
}

#[test]
fn describe_says_which_nodes_are_down() {
    let fed = TestFederation::new();
    let _police = fed.start_node("police");
    let _icb = fed.start_node("icb");
    let out = run(&[
        "coordinator",
        "describe",
        "--config",
        fed.coordinator_config().to_str().expect("utf8"),
    ]);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    assert!(shown.contains("council-east: DOWN"), "{shown}");
    assert!(shown.contains("council-west: DOWN"), "{shown}");
    assert!(shown.contains("2 of 4 nodes answered"), "{shown}");
}

#[test]
fn a_node_refuses_to_start_without_a_policy() {
    let fed = TestFederation::new();
    let config = fed.node_config("icb");

    std::fs::remove_file(fed.member_dir("icb").join("policy.toml")).expect("remove policy");
    let out = run(&["node", "serve", "--config", config.to_str().expect("utf8")]);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(2), "{shown}");
    assert!(shown.contains("refusing to start: no policy at"), "{shown}");
    assert!(shown.contains("policy.toml"), "{shown}");
    assert!(shown.contains("key `policy`"), "{shown}");

    let without_key =
        std::fs::read_to_string(&config).expect("read").replace("policy = \"policy.toml\"\n", "");
    std::fs::write(&config, without_key).expect("write");
    let out = run(&["node", "serve", "--config", config.to_str().expect("utf8")]);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(2), "{shown}");
    assert!(shown.contains("refusing to start"), "{shown}");
    assert!(shown.contains("node.toml has no `policy` key"), "{shown}");
}

#[test]
fn health_and_reflection_answer_members_over_mtls() {
    use tonic_health::pb::HealthCheckRequest;
    use tonic_health::pb::health_client::HealthClient;
    use tonic_reflection::pb::v1::ServerReflectionRequest;
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;

    let fed = TestFederation::new();
    let _node = fed.start_node("icb");
    runtime().block_on(async {
        let channel = fed.channel("icb", &fed.client_tls("coordinator")).await;
        let mut health = HealthClient::new(channel.clone());
        let status = health
            .check(HealthCheckRequest { service: "fedlink.v1.Node".into() })
            .await
            .expect("health check")
            .into_inner();
        assert_eq!(status.status, 1, "SERVING");

        let mut reflection = ServerReflectionClient::new(channel);
        let request = ServerReflectionRequest {
            host: String::new(),
            message_request: Some(MessageRequest::ListServices(String::new())),
        };
        let mut stream = reflection
            .server_reflection_info(tokio_stream::iter(vec![request]))
            .await
            .expect("reflection")
            .into_inner();
        let response = stream.message().await.expect("message").expect("one response");
        let Some(MessageResponse::ListServicesResponse(list)) = response.message_response else {
            panic!("unexpected reflection response");
        };
        let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
        for expected in
            ["fedlink.v1.Node", "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection"]
        {
            assert!(names.iter().any(|n| n == expected), "{expected} not in {names:?}");
        }
    });
}

#[test]
fn a_node_stops_gracefully_on_sigterm_and_logs_json_on_request() {
    let fed = TestFederation::new();
    let mut node = NodeProcess::start_with_env(
        "police",
        &fed.node_config("police"),
        &[("FEDLINK_LOG_FORMAT", "json"), ("FEDLINK_LOG", "info")],
    );
    // A process killed by the signal would not exit with status 0.
    assert!(node.stop(), "exit status was not success: {}", node.stderr());
    let lines: Vec<serde_json::Value> = node
        .stderr()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let messages: Vec<&str> =
        lines.iter().filter_map(|v| v["fields"]["message"].as_str()).collect();
    assert!(messages.contains(&"serving over mTLS"), "{messages:?}");
    assert!(messages.contains(&"SIGTERM: shutting down"), "{messages:?}");
    assert!(messages.contains(&"stopped"), "{messages:?}");
    let out = fed.verify_log("police");
    assert!(out.status.success(), "{}", text(&out));
}
