//! Imports as DPA 2018 s62 "collection" events: each file's import is logged in the node's
//! audit log before it starts (who, which dataset, which file) and when it ends (the reconciled
//! counts and the file's SHA-256), so an auditor can see every way data entered the node.

use std::path::Path;
use std::sync::Arc;

use fedlink_proto::audit::store::AuditLog;
use fedlink_proto::clock::Clock;
use fedlink_proto::pb;

use crate::config::NodeSettings;
use crate::dataset::import::{ImportError, ImportSummary, import_csv};
use crate::dataset::store::DatasetStore;

/// Why a collection failed.
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    /// The dataset is not configured on this node.
    #[error(
        "dataset {name:?} is not configured on this node (configured: {known:?}); add a [[dataset]] table naming its schema to the node config"
    )]
    UnknownDataset {
        /// The name asked for.
        name: String,
        /// The configured names.
        known: Vec<String>,
    },
    /// The audit log or the data folder failed.
    #[error("{0}")]
    Log(String),
    /// The import failed; nothing of it was kept.
    #[error(transparent)]
    Import(#[from] ImportError),
}

/// The node's stores, opened for importing.
pub struct Collector {
    /// The node's settings (datasets, member name).
    settings: NodeSettings,
    /// The dataset database.
    store: DatasetStore,
    /// The node's audit log.
    log: AuditLog,
    /// The clock for timestamps.
    clock: Arc<dyn Clock>,
}

impl Collector {
    /// Opens the data folder's stores.
    pub fn open(settings: NodeSettings, clock: Arc<dyn Clock>) -> Result<Self, CollectError> {
        let fail = |e: &dyn std::fmt::Display| CollectError::Log(e.to_string());
        std::fs::create_dir_all(&settings.data_dir).map_err(|e| fail(&e))?;
        let store =
            DatasetStore::open(&settings.data_dir.join("datasets.db")).map_err(|e| fail(&e))?;
        let origin = settings.me.log_origin(&settings.federation.name);
        let key = settings.identity.try_clone().map_err(|e| fail(&e))?;
        let log =
            AuditLog::open(&settings.data_dir.join("audit.db"), &origin, key, Arc::clone(&clock))
                .map_err(|e| fail(&e))?;
        Ok(Self { settings, store, log, clock })
    }

    /// Imports `file` into `dataset`, logging the collection around it.
    pub fn import(
        &mut self,
        dataset: &str,
        file: &Path,
        operator: &str,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<ImportSummary, CollectError> {
        let schema =
            self.settings.datasets.iter().find(|d| d.name == dataset).cloned().ok_or_else(
                || CollectError::UnknownDataset {
                    name: dataset.to_string(),
                    known: self.settings.datasets.iter().map(|d| d.name.clone()).collect(),
                },
            )?;
        let actor = pb::Actor {
            member: self.settings.me.name.clone(),
            auth_method: "local".into(),
            requester: Some(pb::Requester {
                officer_id: operator.to_string(),
                role: "node operator".into(),
                organisation: self.settings.me.organisation.clone(),
            }),
            ..Default::default()
        };
        let start = pb::AuditEntry {
            event_type: pb::EventType::Collection as i32,
            decision: pb::Decision::Allowed as i32,
            rule: "import.start".into(),
            reason: format!("import of {} into dataset {dataset} started", file.display()),
            actor: Some(actor.clone()),
            ..Default::default()
        };
        let start_index =
            self.log.append(start, None).map_err(|e| CollectError::Log(e.to_string()))?.index;
        let clock = Arc::clone(&self.clock);
        let result = import_csv(&mut self.store, &schema, file, || clock.now().0, progress);
        let (decision, rule, reason, detail) = match &result {
            Ok(s) => (
                pb::Decision::Allowed,
                "import.finish",
                format!("imported {} into dataset {dataset}", file.display()),
                format!(
                    "import_id={} sha256={} rows_read={} inserted={} replaced={} unchanged={} \
                     quarantined={}",
                    s.import_id,
                    hex(&s.source_sha256),
                    s.counts.rows_read,
                    s.counts.inserted,
                    s.counts.replaced,
                    s.counts.unchanged,
                    s.counts.quarantined
                ),
            ),
            Err(e) => (
                pb::Decision::Error,
                "import.failed",
                format!("import of {} into dataset {dataset} failed; nothing kept", file.display()),
                e.to_string(),
            ),
        };
        let finish = pb::AuditEntry {
            event_type: pb::EventType::Collection as i32,
            decision: decision as i32,
            rule: rule.into(),
            reason,
            actor: Some(actor),
            request_index: Some(start_index),
            detail,
            ..Default::default()
        };
        self.log.append(finish, None).map_err(|e| CollectError::Log(e.to_string()))?;
        Ok(result?)
    }

    /// The configured datasets' names.
    pub fn datasets(&self) -> Vec<String> {
        self.settings.datasets.iter().map(|d| d.name.clone()).collect()
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
