//! One watch over Nova's evacuation migration records for all of a failed host's moves.
//!
//! Polling each moving instance (`GET /servers/{id}`) noticed each end half a second late on
//! average, and the parallelism permit stayed held until then, so the lag added up over the
//! waves (and the reads loaded Nova). Instead, while any move waits, one task lists the host's
//! evacuation migrations changed lately (`GET /os-migrations`, a few cheap rows) every
//! [`LOOK_EVERY`] and tells each waiter when its instance's record reaches an end; the waiter
//! then reads its server once to confirm (the server record has the last word). A Nova that
//! refuses the listing (policy, old microversion) leaves the waiters polling as before.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use lifeboat_core::compute::{Compute, EvacuationMigration};
use tokio::sync::{Notify, watch};

use crate::decisions::{self, MigrationEnd};

/// How often the host's migrations are listed while a move waits.
pub(crate) const LOOK_EVERY: Duration = Duration::from_millis(250);
/// The pause after a listing failed that may succeed later.
const RETRY_EVERY: Duration = Duration::from_secs(1);
/// Each listing asks for the records changed since the newest change seen minus this: Nova
/// stamps `updated_at` (one-second resolution on MySQL) before it commits, so a change can
/// become visible after later-stamped ones.
const SLACK: Duration = Duration::from_secs(10);
/// The first listing reaches back this far before the watch started (engine and Nova clocks
/// differ a little; a change missed for a larger difference is caught by the waiters' own
/// slow looks).
const FIRST_SLACK: Duration = Duration::from_secs(5);

/// What the last listing showed.
#[derive(Debug)]
struct Snapshot {
    /// Whether the listing answers (false: refused for good, or failing right now).
    listing: bool,
    /// The newest evacuation migration of each instance seen so far.
    newest: HashMap<String, Seen>,
}

/// A migration record, and the look that first saw it in its current status.
#[derive(Debug)]
struct Seen {
    migration: EvacuationMigration,
    look: u64,
}

#[derive(Debug)]
struct Shared {
    tx: watch::Sender<Snapshot>,
    /// Looks started so far.
    looks: AtomicU64,
    /// A waiter arrived.
    wake: Notify,
}

/// The watch of one host recovery; its task ends when it is dropped.
#[derive(Debug)]
pub(crate) struct EvacuationWatch {
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl EvacuationWatch {
    /// Starts watching the evacuations from `host`; `started` is when the recovery began
    /// (engine clock). Lists once at once, so that records already there (an earlier try's)
    /// are known as such, then only while a move waits.
    pub(crate) fn start(nova: Arc<dyn Compute>, host: String, started: DateTime<Utc>) -> Self {
        let (tx, _) = watch::channel(Snapshot {
            listing: true,
            newest: HashMap::new(),
        });
        let shared = Arc::new(Shared {
            tx,
            looks: AtomicU64::new(0),
            wake: Notify::new(),
        });
        let since = started - chrono::Duration::from_std(FIRST_SLACK).unwrap_or_default();
        let task = tokio::spawn(list(shared.clone(), nova, host, since));
        Self { shared, task }
    }

    /// Waits for `instance`'s evacuation, which must already have been asked of Nova (or be
    /// under way): only a status first seen by a listing started from now on counts, so an
    /// earlier try's ended record cannot pass for this one. (Nova lists a new record only
    /// once it changes: `changes-since` skips a null `updated_at`, so until then the newest
    /// record listed for the instance may be an old one.)
    pub(crate) fn waiter(&self, instance: &str) -> Waiter {
        let rx = self.shared.tx.subscribe();
        let first_look = self.shared.looks.load(Ordering::SeqCst) + 1;
        self.shared.wake.notify_one();
        Waiter {
            rx,
            instance: instance.to_owned(),
            first_look,
            cued: None,
        }
    }
}

impl Drop for EvacuationWatch {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The listing task: lists while anyone waits, publishes, and stops for good if Nova refuses.
async fn list(shared: Arc<Shared>, nova: Arc<dyn Compute>, host: String, mut since: DateTime<Utc>) {
    let slack = chrono::Duration::from_std(SLACK).unwrap_or_default();
    let mut failing = false;
    let mut primed = false;
    loop {
        // A `Notify` permit is kept, so a waiter arriving between the count and the wait wakes it.
        while primed && shared.tx.receiver_count() == 0 {
            shared.wake.notified().await;
        }
        primed = true;
        let look = shared.looks.fetch_add(1, Ordering::SeqCst) + 1;
        match nova.evacuation_migrations(&host, since).await {
            Ok(found) => {
                if failing {
                    tracing::info!(host.name = %host, "listing the evacuation migrations works again");
                    failing = false;
                }
                // Nova's own clock from here on.
                if let Some(newest) = found.iter().filter_map(|m| m.updated_at).max() {
                    since = since.max(newest - slack);
                }
                shared.tx.send_modify(|s| {
                    s.listing = true;
                    for m in found {
                        match s.newest.get_mut(&m.instance_uuid) {
                            Some(old) if old.migration.id > m.id => {}
                            Some(old)
                                if old.migration.id == m.id && old.migration.status == m.status =>
                            {
                                old.migration = m;
                            }
                            _ => {
                                s.newest
                                    .insert(m.instance_uuid.clone(), Seen { migration: m, look });
                            }
                        }
                    }
                });
            }
            Err(e) if !e.is_retryable() => {
                tracing::warn!(host.name = %host, error = %e, "Nova refuses to list evacuation migrations; reading each moving instance instead (slower; the engine's user needs the os-migrations:index policy and compute microversion 2.59)");
                shared.tx.send_modify(|s| {
                    s.listing = false;
                });
                return;
            }
            Err(e) => {
                if !failing {
                    tracing::warn!(host.name = %host, error = %e, "listing the evacuation migrations failed; reading each moving instance until it works again");
                    failing = true;
                }
                shared.tx.send_modify(|s| {
                    s.listing = false;
                });
            }
        }
        tokio::time::sleep(if failing { RETRY_EVERY } else { LOOK_EVERY }).await;
    }
}

/// Why a waiter should look at its server now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Cue {
    /// The instance's migration record reached an end.
    Ended(MigrationEnd),
    /// The time given passed (or the listing stopped answering).
    Look,
}

/// One move waiting on the watch.
#[derive(Debug)]
pub(crate) struct Waiter {
    rx: watch::Receiver<Snapshot>,
    instance: String,
    first_look: u64,
    /// The migration whose end was told already.
    cued: Option<u64>,
}

impl Waiter {
    /// The instance waited for.
    pub(crate) fn instance(&self) -> &str {
        &self.instance
    }

    /// Whether the listing answers; if not, the mover reads its server as often as it used to.
    pub(crate) fn listing(&self) -> bool {
        self.rx.borrow().listing
    }

    /// Waits until the instance's migration ends (told once per migration), `at_most` passes,
    /// or the listing stops answering.
    pub(crate) async fn cue(&mut self, at_most: Duration) -> Cue {
        let timer = tokio::time::sleep(at_most);
        tokio::pin!(timer);
        let was_listing = self.listing();
        loop {
            {
                let snap = self.rx.borrow_and_update();
                if was_listing && !snap.listing {
                    return Cue::Look;
                }
                if let Some(seen) = snap.newest.get(&self.instance)
                    && seen.look >= self.first_look
                    && self.cued != Some(seen.migration.id)
                    && let Some(end) = decisions::migration_end(&seen.migration.status)
                {
                    self.cued = Some(seen.migration.id);
                    return Cue::Ended(end);
                }
            }
            tokio::select! {
                () = &mut timer => return Cue::Look,
                changed = self.rx.changed() => {
                    if changed.is_err() {
                        (&mut timer).await;
                        return Cue::Look;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use lifeboat_core::compute::{
        Aggregate, ComputeError, ComputeService, Hypervisor, Server, VmState,
    };

    use super::*;

    /// Answers listings from a script of records; counts them.
    #[derive(Debug, Default)]
    struct Migrations {
        records: Mutex<Vec<EvacuationMigration>>,
        refuse: Option<u16>,
        listed: AtomicU64,
        since: Mutex<Vec<DateTime<Utc>>>,
    }

    fn record(id: u64, instance: &str, status: &str, at: DateTime<Utc>) -> EvacuationMigration {
        EvacuationMigration {
            id,
            instance_uuid: instance.into(),
            status: status.into(),
            dest_compute: Some("h2".into()),
            updated_at: Some(at),
        }
    }

    #[async_trait::async_trait]
    impl Compute for Migrations {
        async fn evacuation_migrations(
            &self,
            source: &str,
            since: DateTime<Utc>,
        ) -> Result<Vec<EvacuationMigration>, ComputeError> {
            assert_eq!(source, "h1");
            self.listed.fetch_add(1, Ordering::SeqCst);
            self.since.lock().unwrap().push(since);
            if let Some(status) = self.refuse {
                return Err(ComputeError::Refused {
                    action: "listing".into(),
                    status,
                    message: "no".into(),
                });
            }
            Ok(self.records.lock().unwrap().clone())
        }
        async fn find_compute_service(
            &self,
            _: &str,
        ) -> Result<Option<ComputeService>, ComputeError> {
            unimplemented!()
        }
        async fn compute_services(&self) -> Result<Vec<ComputeService>, ComputeError> {
            unimplemented!()
        }
        async fn set_forced_down(&self, _: &str, _: bool) -> Result<(), ComputeError> {
            unimplemented!()
        }
        async fn disable_service(&self, _: &str, _: &str) -> Result<(), ComputeError> {
            unimplemented!()
        }
        async fn enable_service(&self, _: &str) -> Result<(), ComputeError> {
            unimplemented!()
        }
        async fn servers_on_host(&self, _: &str) -> Result<Vec<Server>, ComputeError> {
            unimplemented!()
        }
        async fn get_server(&self, _: &str) -> Result<Server, ComputeError> {
            unimplemented!()
        }
        async fn evacuate(&self, _: &str, _: Option<&str>) -> Result<(), ComputeError> {
            unimplemented!()
        }
        async fn stop_server(&self, _: &str) -> Result<(), ComputeError> {
            unimplemented!()
        }
        async fn start_server(&self, _: &str) -> Result<(), ComputeError> {
            unimplemented!()
        }
        async fn hard_reboot(&self, _: &str) -> Result<(), ComputeError> {
            unimplemented!()
        }
        async fn reset_state(&self, _: &str, _: VmState) -> Result<(), ComputeError> {
            unimplemented!()
        }
        async fn aggregates(&self) -> Result<Vec<Aggregate>, ComputeError> {
            unimplemented!()
        }
        async fn add_host_to_aggregate(&self, _: &str, _: &str) -> Result<(), ComputeError> {
            unimplemented!()
        }
        async fn remove_host_from_aggregate(&self, _: &str, _: &str) -> Result<(), ComputeError> {
            unimplemented!()
        }
        async fn hypervisors(&self) -> Result<Vec<Hypervisor>, ComputeError> {
            unimplemented!()
        }
    }

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + secs, 0).unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn waiters_hear_of_their_own_migrations_end_once_and_idle_watches_list_nothing() {
        let nova = Arc::new(Migrations::default());
        // An earlier try's record ended in error; this try's is under way.
        nova.records.lock().unwrap().extend([
            record(1, "a", "error", at(0)),
            record(5, "a", "pre-migrating", at(20)),
            record(6, "b", "pre-migrating", at(20)),
        ]);
        let watch = EvacuationWatch::start(nova.clone(), "h1".into(), at(0));
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(
            nova.listed.load(Ordering::SeqCst),
            1,
            "once at the start, then nobody waits"
        );

        let mut a = watch.waiter("a");
        assert_eq!(a.cue(Duration::from_secs(1)).await, Cue::Look);
        // b's first evacuation ended (while a waited), and b is evacuated again: Nova does not
        // list b's new record until it changes, and the old one's end is no news.
        nova.records.lock().unwrap()[2].status = "error".into();
        tokio::time::sleep(Duration::from_secs(1)).await;
        let mut b = watch.waiter("b");
        assert_eq!(b.cue(Duration::from_secs(1)).await, Cue::Look);
        nova.records
            .lock()
            .unwrap()
            .push(record(7, "b", "pre-migrating", at(25)));
        assert_eq!(b.cue(Duration::from_secs(1)).await, Cue::Look);
        nova.records.lock().unwrap()[3].status = "failed".into();
        assert_eq!(
            b.cue(Duration::from_secs(1)).await,
            Cue::Ended(MigrationEnd::Failed("failed".into()))
        );
        drop(b);
        nova.records.lock().unwrap()[1].status = "done".into();
        let started = tokio::time::Instant::now();
        assert_eq!(
            a.cue(Duration::from_secs(5)).await,
            Cue::Ended(MigrationEnd::Succeeded)
        );
        assert!(started.elapsed() <= LOOK_EVERY, "{:?}", started.elapsed());
        // Told once: the next wait runs its time.
        assert_eq!(a.cue(Duration::from_secs(1)).await, Cue::Look);
        // The first listing reached back before the start; later ones follow Nova's clock.
        let since = nova.since.lock().unwrap().clone();
        assert_eq!(since[0], at(0) - chrono::Duration::seconds(5));
        assert_eq!(
            *since.last().unwrap(),
            at(25) - chrono::Duration::seconds(10)
        );
        drop(a);
        // Nobody waits any more: the listing stops.
        tokio::time::sleep(LOOK_EVERY * 2).await;
        let listed = nova.listed.load(Ordering::SeqCst);
        tokio::time::sleep(Duration::from_secs(5)).await;
        assert_eq!(nova.listed.load(Ordering::SeqCst), listed);
    }

    #[tokio::test(start_paused = true)]
    async fn a_refused_listing_is_given_up_and_the_waiters_told() {
        let nova = Arc::new(Migrations {
            refuse: Some(403),
            ..Migrations::default()
        });
        let watch = EvacuationWatch::start(nova.clone(), "h1".into(), at(0));
        let mut w = watch.waiter("a");
        assert!(w.listing());
        let started = tokio::time::Instant::now();
        assert_eq!(w.cue(Duration::from_secs(5)).await, Cue::Look);
        assert!(started.elapsed() < Duration::from_secs(1));
        assert!(!w.listing());
        tokio::time::sleep(Duration::from_secs(10)).await;
        assert_eq!(nova.listed.load(Ordering::SeqCst), 1, "asked once");
    }
}
