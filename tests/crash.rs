//! Crash safety of the audit log: a node killed with SIGKILL, again and again, in the middle of
//! a burst of concurrent requests, leaves a log that verifies and that holds, byte for byte at
//! the index its receipt named, every entry whose answer was delivered (issue 7;
//! audit-privacy-legal.md §1.3: one transaction per append, the answer only after the commit).

use std::collections::BTreeMap;
use std::time::Duration;

use fedlink_coordinator::client::ClientTls;
use fedlink_proto::pb;
use fedlink_proto::pb::node_client::NodeClient;
use tonic::transport::Channel;

use crate::util::{TestFederation, audit_entries, text};

/// Rounds of start, burst, SIGKILL.
const ROUNDS: usize = 6;
/// Concurrent clients per burst.
const CLIENTS: usize = 8;

/// One delivered answer: the entry its receipt says the node logged, and where.
struct Delivered {
    leaf_index: u64,
    entry: Vec<u8>,
}

/// Clients connected to the node, each with its own supply of fresh signed describe requests.
async fn connect_clients(
    fed: &TestFederation,
    tls: &ClientTls,
) -> Vec<(NodeClient<Channel>, Vec<pb::SignedEnvelope>)> {
    let mut clients = Vec::new();
    for _ in 0..CLIENTS {
        let envelopes = (0..400).map(|_| fed.envelope("icb").sign(&fed.identity("coordinator")));
        clients.push((fed.client("icb", tls).await, envelopes.collect()));
    }
    clients
}

/// Sends every client's requests concurrently until the node dies under them; returns every
/// receipt that arrived with an answer (a refusal's receipt counts too: it is an answer).
async fn burst(clients: Vec<(NodeClient<Channel>, Vec<pb::SignedEnvelope>)>) -> Vec<Delivered> {
    let mut tasks = Vec::new();
    for (mut client, envelopes) in clients {
        tasks.push(tokio::spawn(async move {
            let mut delivered = Vec::new();
            for signed in envelopes {
                let receipt = match client.describe(signed).await {
                    Ok(answer) => answer.into_inner().receipt,
                    Err(status) => {
                        let Some(bytes) =
                            status.metadata().get_bin(fedlink_proto::refusal::RECEIPT_HEADER)
                        else {
                            break; // the node is gone: nothing was delivered
                        };
                        let bytes = bytes.to_bytes().expect("receipt header");
                        Some(prost::Message::decode(bytes).expect("receipt decodes"))
                    }
                };
                let receipt: pb::Receipt = receipt.expect("every answer carries a receipt");
                delivered.push(Delivered { leaf_index: receipt.leaf_index, entry: receipt.entry });
            }
            delivered
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.expect("client task"));
    }
    all
}

#[test]
fn sigkill_during_a_burst_never_loses_a_delivered_entry_and_the_log_verifies() {
    let fed = TestFederation::new();
    let tls = fed.client_tls("coordinator");
    let mut delivered: BTreeMap<u64, Vec<u8>> = BTreeMap::new();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let _ = rustls::crypto::ring::default_provider().install_default();
    for round in 0..ROUNDS {
        let mut node = fed.start_node("icb");
        let answers = rt.block_on(async {
            let clients = connect_clients(&fed, &tls).await;
            let killer = async {
                // Kill at a different moment each round, mid-burst.
                tokio::time::sleep(Duration::from_millis(150 + 70 * round as u64)).await;
            };
            let sending = burst(clients);
            tokio::pin!(sending);
            tokio::select! {
                answers = &mut sending => (answers, false),
                () = killer => {
                    node.kill_hard();
                    (sending.await, true)
                }
            }
        });
        let (answers, killed) = answers;
        assert!(killed, "round {round}: the burst ended before the kill; lengthen it");
        for d in answers {
            let previous = delivered.insert(d.leaf_index, d.entry.clone());
            assert!(
                previous.is_none_or(|p| p == d.entry),
                "round {round}: two answers claimed entry {}",
                d.leaf_index
            );
        }
    }
    eprintln!("{} answers delivered over {ROUNDS} crashes", delivered.len());
    assert!(delivered.len() > ROUNDS * CLIENTS, "too few answers to test anything");

    let out = fed.verify_log("icb");
    assert!(out.status.success(), "the log does not verify after {ROUNDS} crashes: {}", text(&out));
    let stored: Vec<Vec<u8>> = {
        let conn = rusqlite::Connection::open(fed.audit_log("icb")).expect("open");
        let mut stmt = conn.prepare("SELECT entry FROM log_entry ORDER BY idx").expect("prepare");
        stmt.query_map([], |r| r.get(0)).expect("query").map(|r| r.expect("row")).collect()
    };
    for (index, entry) in &delivered {
        let at = usize::try_from(*index).expect("index");
        assert_eq!(
            stored.get(at),
            Some(entry),
            "entry {index}, whose answer was delivered, is not in the log as receipted"
        );
    }
    // Every start after a crash is logged, so the log shows the crashes happened.
    let starts = audit_entries(&fed.audit_log("icb"))
        .iter()
        .filter(|e| e.event_type == pb::EventType::ServiceStart as i32)
        .count();
    assert_eq!(starts, ROUNDS, "one SERVICE_START per start");
}
