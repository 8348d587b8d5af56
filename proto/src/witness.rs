//! The witness protocol's wire vocabulary (C2SP `tlog-witness` carried over gRPC; design-review
//! F14): the parsed `AddCheckpoint` request, every reason a witness refuses one with its rule
//! and gRPC code (the spec's HTTP statuses, mapped once here), and how a client reads the
//! answer. Pure: the witness's state and service are in the node crate, its clients in the
//! node and the coordinator.

use std::fmt;

use serde::{Deserialize, Serialize};
use tonic::{Code, Status};

use crate::audit::checkpoint::Checkpoint;
use crate::audit::cosignature::{Cosignature, CosignatureError, CosignatureVerifier};
use crate::audit::merkle::Hash;
use crate::audit::proof::hashes_from_bytes;
use crate::pb;

/// Header that carries a witness refusal's rule name.
pub const WITNESS_REFUSAL_HEADER: &str = "fedlink-witness-refusal";
/// Header of a conflict (409) that carries the size the witness last cosigned, in decimal.
pub const WITNESS_SIZE_HEADER: &str = "fedlink-witness-size";

/// Most hashes a consistency proof may have (`tlog-witness`: "MUST NOT send more than 63").
pub const MAX_PROOF_HASHES: usize = 63;

/// The cosigner name of a federation member that witnesses other members' logs (a node
/// cosigning the coordinator's checkpoints, the coordinator cosigning a node's).
pub fn member_cosigner_name(federation: &str, member: &str) -> String {
    format!("fedlink.witness/{federation}/{member}")
}

/// A `[[witness]]` table in a coordinator's or node's config: an independent witness (a
/// partner's DPO running `fedlink witness serve`) that this member sends its checkpoints to.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WitnessEntry {
    /// A short name for messages, e.g. "dpo".
    pub name: String,
    /// Where its Witness service listens, e.g. "https://witness.example.org:7600".
    pub address: String,
    /// The DNS name in its TLS certificate, if it differs from the address's host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_name: Option<String>,
    /// Its cosigner key, as `fedlink witness init` prints it:
    /// `<name>+<key ID>+<base64(0x04 ‖ Ed25519 key)>`.
    pub vkey: String,
}

/// A configured witness, its key parsed.
#[derive(Debug, Clone)]
pub struct ConfiguredWitness {
    /// The short name for messages.
    pub name: String,
    /// Where it listens.
    pub address: String,
    /// The TLS name to expect, if not the address's host.
    pub tls_name: Option<String>,
    /// Its cosigner key.
    pub verifier: CosignatureVerifier,
}

impl WitnessEntry {
    /// Parses the key.
    pub fn resolve(&self) -> Result<ConfiguredWitness, CosignatureError> {
        Ok(ConfiguredWitness {
            name: self.name.clone(),
            address: self.address.clone(),
            tls_name: self.tls_name.clone(),
            verifier: CosignatureVerifier::from_vkey(&self.vkey)?,
        })
    }
}

/// An `AddCheckpoint` request, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submission {
    /// The size the submitter believes this witness last cosigned.
    pub old_size: u64,
    /// Consistency proof from `old_size` to the checkpoint.
    pub proof: Vec<Hash>,
    /// The signed checkpoint note, not yet verified.
    pub note: String,
    /// Cosignatures of the witness's own log delivered with it: (size, line).
    pub delivered: Vec<(u64, String)>,
}

impl TryFrom<pb::AddCheckpointRequest> for Submission {
    type Error = WitnessRefusal;

    fn try_from(wire: pb::AddCheckpointRequest) -> Result<Self, WitnessRefusal> {
        let proof = hashes_from_bytes(&wire.consistency_proof)
            .map_err(|e| WitnessRefusal::Malformed(format!("consistency proof: {e}")))?;
        if proof.len() > MAX_PROOF_HASHES {
            return Err(WitnessRefusal::Malformed(format!(
                "the consistency proof has {} hashes; at most {MAX_PROOF_HASHES} are accepted",
                proof.len()
            )));
        }
        Ok(Self {
            old_size: wire.old_size,
            proof,
            note: wire.checkpoint,
            delivered: wire.cosignatures.into_iter().map(|c| (c.size, c.line)).collect(),
        })
    }
}

impl Submission {
    /// The wire form.
    pub fn to_pb(&self) -> pb::AddCheckpointRequest {
        pb::AddCheckpointRequest {
            old_size: self.old_size,
            consistency_proof: self.proof.iter().flat_map(|h| h.0).collect(),
            checkpoint: self.note.clone(),
            cosignatures: self
                .delivered
                .iter()
                .map(|(size, line)| pb::DeliveredCosignature { size: *size, line: line.clone() })
                .collect(),
        }
    }
}

/// Why a witness refused a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WitnessRefusal {
    /// No trusted signature of the log verifies (`tlog-witness` 403).
    BadSignature {
        /// The log's origin.
        origin: String,
        /// What failed.
        problem: String,
    },
    /// The consistency proof does not verify from the checkpoint last cosigned (422): the log
    /// shown now does not extend the one cosigned before. Evidence of a fork or a rewrite.
    BadProof {
        /// The log's origin.
        origin: String,
        /// The size last cosigned.
        cosigned_size: u64,
        /// The size submitted.
        size: u64,
        /// What failed.
        problem: String,
    },
    /// `old_size` is not the size this witness last cosigned, or it is and the roots differ
    /// (409). The submitter retries from `witness_size`.
    Conflict {
        /// The log's origin.
        origin: String,
        /// The size this witness last cosigned (0 if none).
        witness_size: u64,
        /// Whether the sizes matched but the roots did not: two different trees of one size,
        /// evidence of a fork rather than a stale client.
        fork: bool,
    },
    /// The witness itself failed (its state could not be read or written).
    Internal(String),
    /// The request is not well formed.
    Malformed(String),
    /// Cosignatures were delivered to a witness that keeps no log of its own.
    NoOwnLog,
    /// `old_size` is larger than the checkpoint (400).
    OldSizeAfterNew {
        /// Old size.
        old_size: u64,
        /// Checkpoint size.
        size: u64,
    },
    /// A delivered cosignature is not over this member's own checkpoint at that size: whoever
    /// made it was shown a different log of this member (a split view).
    SplitView {
        /// The cosigner.
        cosigner: String,
        /// The size it claims to cosign.
        size: u64,
        /// What failed.
        problem: String,
    },
    /// The origin is not a log this witness witnesses (404).
    UnknownLog {
        /// The origin submitted.
        origin: String,
    },
}

impl WitnessRefusal {
    /// The stable rule name, sent in [`WITNESS_REFUSAL_HEADER`].
    pub fn rule(&self) -> &'static str {
        match self {
            Self::BadSignature { .. } => "witness.bad_signature",
            Self::BadProof { .. } => "witness.bad_proof",
            Self::Conflict { .. } => "witness.conflict",
            Self::Internal(_) => "witness.internal",
            Self::Malformed(_) => "witness.malformed",
            Self::NoOwnLog => "witness.no_own_log",
            Self::OldSizeAfterNew { .. } => "witness.old_size_after_new",
            Self::SplitView { .. } => "witness.split_view",
            Self::UnknownLog { .. } => "witness.unknown_log",
        }
    }

    /// The gRPC code standing for the `tlog-witness` HTTP status.
    pub fn code(&self) -> Code {
        match self {
            Self::BadSignature { .. } => Code::PermissionDenied,
            Self::BadProof { .. }
            | Self::Malformed(_)
            | Self::NoOwnLog
            | Self::OldSizeAfterNew { .. }
            | Self::SplitView { .. } => Code::InvalidArgument,
            Self::Conflict { .. } => Code::FailedPrecondition,
            Self::Internal(_) => Code::Internal,
            Self::UnknownLog { .. } => Code::NotFound,
        }
    }

    /// Whether the refusal is evidence of misbehaviour (a fork or a split view) that the
    /// witness keeps and reports, rather than a client to be corrected.
    pub fn is_alarm(&self) -> bool {
        matches!(
            self,
            Self::BadProof { .. } | Self::SplitView { .. } | Self::Conflict { fork: true, .. }
        )
    }

    /// The status to send: code, message, rule header and, for a conflict, the size header.
    pub fn to_status(&self) -> Status {
        let mut status = Status::new(self.code(), self.to_string());
        status.metadata_mut().insert(
            WITNESS_REFUSAL_HEADER,
            tonic::metadata::MetadataValue::from_static(self.rule()),
        );
        if let Self::Conflict { witness_size, .. } = self
            && let Ok(v) = witness_size.to_string().parse()
        {
            status.metadata_mut().insert(WITNESS_SIZE_HEADER, v);
        }
        status
    }
}

impl fmt::Display for WitnessRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadSignature { origin, problem } => {
                write!(f, "the checkpoint of {origin} is not signed by its key: {problem}")
            }
            Self::BadProof { origin, cosigned_size, size, problem } => write!(
                f,
                "the checkpoint of {origin} at size {size} is not consistent with the one this \
                 witness cosigned at size {cosigned_size} ({problem}): the log was forked or \
                 rewritten"
            ),
            Self::Conflict { origin, witness_size, fork: true } => write!(
                f,
                "this witness cosigned a different checkpoint of {origin} at size \
                 {witness_size}: two different logs of one size, the log was forked"
            ),
            Self::Conflict { origin, witness_size, fork: false } => write!(
                f,
                "this witness last cosigned {origin} at size {witness_size}; send a \
                 consistency proof from there"
            ),
            Self::Internal(problem) => write!(f, "the witness failed: {problem}"),
            Self::Malformed(problem) => write!(f, "malformed request: {problem}"),
            Self::NoOwnLog => {
                write!(f, "cosignatures were delivered, but this witness keeps no log of its own")
            }
            Self::OldSizeAfterNew { old_size, size } => {
                write!(f, "old size {old_size} is larger than the checkpoint's size {size}")
            }
            Self::SplitView { cosigner, size, problem } => write!(
                f,
                "SPLIT VIEW: {cosigner}'s cosignature of this log at size {size} is not over \
                 this log's own checkpoint at that size ({problem}); it was shown a different \
                 log"
            ),
            Self::UnknownLog { origin } => write!(f, "this witness does not witness {origin:?}"),
        }
    }
}

/// What a witness answered, as its client reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WitnessAnswer {
    /// It cosigned, and the cosignature verifies over the checkpoint sent.
    Cosigned {
        /// The cosignature.
        cosignature: Cosignature,
        /// Its line, to store.
        line: String,
        /// Delivered cosignatures the witness stored.
        stored: u32,
    },
    /// It last cosigned another size (409): retry from there.
    Conflict {
        /// The size it last cosigned.
        witness_size: u64,
        /// Its message.
        message: String,
    },
    /// It refused for another reason, named by its rule.
    Refused {
        /// The rule (empty if the status carried none).
        rule: String,
        /// Its message.
        message: String,
    },
    /// It answered with a cosignature that does not verify, or could not be reached.
    Failed(String),
}

impl WitnessAnswer {
    /// Reads a witness's reply to a submission of `checkpoint`, checking the cosignature with
    /// the witness's `verifier`.
    pub fn read(
        reply: Result<pb::AddCheckpointResponse, Status>,
        verifier: &CosignatureVerifier,
        checkpoint: &Checkpoint,
    ) -> Self {
        match reply {
            Ok(response) => match verifier.verify(checkpoint, &response.cosignature) {
                Ok(cosignature) => Self::Cosigned {
                    cosignature,
                    line: response.cosignature,
                    stored: response.cosignatures_stored,
                },
                Err(e) => Self::Failed(format!("its cosignature does not verify: {e}")),
            },
            Err(status) => {
                let header = |name: &str| {
                    status.metadata().get(name).and_then(|v| v.to_str().ok()).map(str::to_string)
                };
                let rule = header(WITNESS_REFUSAL_HEADER);
                let size = header(WITNESS_SIZE_HEADER).and_then(|s| s.parse::<u64>().ok());
                match (rule.as_deref(), size) {
                    (Some("witness.conflict"), Some(witness_size)) => {
                        Self::Conflict { witness_size, message: status.message().to_string() }
                    }
                    (Some(rule), _) => {
                        Self::Refused { rule: rule.to_string(), message: status.message().into() }
                    }
                    (None, _) => Self::Failed(format!("{:?}: {}", status.code(), status.message())),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::cosignature::Cosigner;
    use crate::identity::IdentityKey;

    #[test]
    fn refusals_map_to_the_tlog_witness_statuses() {
        let cases = [
            (WitnessRefusal::UnknownLog { origin: "o".into() }, Code::NotFound),
            (
                WitnessRefusal::BadSignature { origin: "o".into(), problem: "p".into() },
                Code::PermissionDenied,
            ),
            (WitnessRefusal::OldSizeAfterNew { old_size: 3, size: 2 }, Code::InvalidArgument),
            (
                WitnessRefusal::Conflict { origin: "o".into(), witness_size: 7, fork: false },
                Code::FailedPrecondition,
            ),
            (
                WitnessRefusal::BadProof {
                    origin: "o".into(),
                    cosigned_size: 7,
                    size: 9,
                    problem: "p".into(),
                },
                Code::InvalidArgument,
            ),
        ];
        for (refusal, code) in cases {
            let status = refusal.to_status();
            assert_eq!(status.code(), code, "{refusal:?}");
            let rule = status.metadata().get(WITNESS_REFUSAL_HEADER).and_then(|v| v.to_str().ok());
            assert_eq!(rule, Some(refusal.rule()));
        }
    }

    #[test]
    fn a_client_reads_a_conflict_size_and_checks_a_cosignature() {
        let cp = Checkpoint { origin: "o".into(), size: 9, root: Hash([1; 32]) };
        let conflict =
            WitnessRefusal::Conflict { origin: "o".into(), witness_size: 7, fork: false };
        let cosigner = Cosigner::new("w", IdentityKey::generate().expect("rng")).expect("name");
        let verifier = cosigner.verifier();
        assert!(matches!(
            WitnessAnswer::read(Err(conflict.to_status()), &verifier, &cp),
            WitnessAnswer::Conflict { witness_size: 7, .. }
        ));
        let line = cosigner.cosign(&cp, 5).expect("cosign").to_line();
        let ok = pb::AddCheckpointResponse { cosignature: line.clone(), cosignatures_stored: 0 };
        assert!(matches!(
            WitnessAnswer::read(Ok(ok), &verifier, &cp),
            WitnessAnswer::Cosigned { line: l, .. } if l == line
        ));
        let other = Checkpoint { size: 10, ..cp.clone() };
        let wrong = pb::AddCheckpointResponse { cosignature: line, cosignatures_stored: 0 };
        assert!(matches!(
            WitnessAnswer::read(Ok(wrong), &verifier, &other),
            WitnessAnswer::Failed(_)
        ));
        assert!(matches!(
            WitnessAnswer::read(Err(Status::unavailable("down")), &verifier, &cp),
            WitnessAnswer::Failed(_)
        ));
    }

    #[test]
    fn requests_round_trip_and_long_proofs_are_refused() {
        let sub = Submission {
            old_size: 3,
            proof: vec![Hash([2; 32]), Hash([3; 32])],
            note: "note".into(),
            delivered: vec![(4, "line".into())],
        };
        assert_eq!(Submission::try_from(sub.to_pb()), Ok(sub.clone()));
        let long = Submission { proof: vec![Hash([0; 32]); 64], ..sub };
        assert!(matches!(Submission::try_from(long.to_pb()), Err(WitnessRefusal::Malformed(_))));
        let ragged =
            pb::AddCheckpointRequest { consistency_proof: vec![0; 33], ..Default::default() };
        assert!(Submission::try_from(ragged).is_err());
    }
}
