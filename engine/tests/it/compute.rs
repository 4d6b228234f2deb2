//! `FakeCompute`: a Nova that keeps services and servers in memory and moves an evacuated
//! server to its target at once (its migration record reads `done`). Test code only.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use lifeboat_core::clock::{Clock, SystemClock};
use lifeboat_core::compute::{
    Aggregate, Compute, ComputeError, ComputeService, EvacuationMigration, Hypervisor, Server,
    VmState,
};

#[derive(Debug, Default)]
struct State {
    services: Vec<ComputeService>,
    servers: HashMap<String, Server>,
    evacuations: Vec<(String, Option<String>)>,
    forced_down: Vec<String>,
    /// The HTTP status migration listings are refused with, if they are.
    refuse_migrations: Option<u16>,
    /// The HTTP status evacuations are refused with, if they are.
    refuse_evacuations: Option<u16>,
    migration_listings: usize,
}

/// The fake.
#[derive(Debug)]
pub struct FakeCompute {
    state: Mutex<State>,
    /// False while listings of a host's servers are held (a recovery caught mid-way).
    listings_open: tokio::sync::watch::Sender<bool>,
}

impl Default for FakeCompute {
    fn default() -> Self {
        Self {
            state: Mutex::default(),
            listings_open: tokio::sync::watch::Sender::new(true),
        }
    }
}

impl FakeCompute {
    /// Compute services (enabled, up) on `hosts`, with room for a few small servers each.
    pub fn with_hosts(hosts: &[&str]) -> Self {
        let fake = Self::default();
        fake.state.lock().unwrap().services = hosts
            .iter()
            .map(|h| ComputeService {
                id: format!("svc-{h}"),
                host: (*h).to_owned(),
                status: "enabled".into(),
                disabled_reason: None,
                state: "up".into(),
                forced_down: false,
            })
            .collect();
        fake
    }

    /// An active server on `host`.
    pub fn add_server(&self, id: &str, host: &str) {
        self.state.lock().unwrap().servers.insert(
            id.to_owned(),
            Server {
                id: id.to_owned(),
                name: format!("vm-{id}"),
                status: "ACTIVE".into(),
                vm_state: VmState::Active,
                task_state: None,
                host: Some(host.to_owned()),
                locked: false,
                metadata: BTreeMap::new(),
                vcpus: Some(1),
                ram_mb: Some(512),
            },
        );
    }

    /// The evacuations asked for, in order.
    pub fn evacuations(&self) -> Vec<(String, Option<String>)> {
        self.state.lock().unwrap().evacuations.clone()
    }

    /// Refuses to list migrations from now on, as a Nova whose policy forbids it does.
    pub fn refuse_migration_listings(&self, status: u16) {
        self.state.lock().unwrap().refuse_migrations = Some(status);
    }

    /// Refuses every evacuation from now on with `status` (400: a bad request, 503: Nova
    /// failing for now).
    pub fn refuse_evacuations(&self, status: u16) {
        self.state.lock().unwrap().refuse_evacuations = Some(status);
    }

    /// How many times migrations were listed.
    pub fn migration_listings(&self) -> usize {
        self.state.lock().unwrap().migration_listings
    }

    /// Holds listings of a host's servers until [`FakeCompute::release_listings`].
    pub fn hold_listings(&self) {
        self.listings_open.send_replace(false);
    }

    /// Lets held listings answer.
    pub fn release_listings(&self) {
        self.listings_open.send_replace(true);
    }

    /// Services forced down, in order.
    pub fn forced_down(&self) -> Vec<String> {
        self.state.lock().unwrap().forced_down.clone()
    }

    fn not_found(what: &str) -> ComputeError {
        ComputeError::Refused {
            action: what.to_owned(),
            status: 404,
            message: "not found".into(),
        }
    }
}

#[async_trait::async_trait]
impl Compute for FakeCompute {
    async fn find_compute_service(
        &self,
        host: &str,
    ) -> Result<Option<ComputeService>, ComputeError> {
        let s = self.state.lock().unwrap();
        Ok(s.services.iter().find(|x| x.host == host).cloned())
    }

    async fn compute_services(&self) -> Result<Vec<ComputeService>, ComputeError> {
        Ok(self.state.lock().unwrap().services.clone())
    }

    async fn set_forced_down(&self, service_id: &str, down: bool) -> Result<(), ComputeError> {
        let mut s = self.state.lock().unwrap();
        s.forced_down.push(service_id.to_owned());
        if let Some(x) = s.services.iter_mut().find(|x| x.id == service_id) {
            x.forced_down = down;
            x.state = "down".into();
        }
        Ok(())
    }

    async fn disable_service(&self, service_id: &str, reason: &str) -> Result<(), ComputeError> {
        let mut s = self.state.lock().unwrap();
        if let Some(x) = s.services.iter_mut().find(|x| x.id == service_id) {
            x.status = "disabled".into();
            x.disabled_reason = Some(reason.to_owned());
        }
        Ok(())
    }

    async fn enable_service(&self, service_id: &str) -> Result<(), ComputeError> {
        let mut s = self.state.lock().unwrap();
        if let Some(x) = s.services.iter_mut().find(|x| x.id == service_id) {
            x.status = "enabled".into();
        }
        Ok(())
    }

    async fn servers_on_host(&self, host: &str) -> Result<Vec<Server>, ComputeError> {
        let _ = self.listings_open.subscribe().wait_for(|open| *open).await;
        let s = self.state.lock().unwrap();
        Ok(s.servers
            .values()
            .filter(|x| x.host.as_deref() == Some(host))
            .cloned()
            .collect())
    }

    async fn get_server(&self, id: &str) -> Result<Server, ComputeError> {
        let s = self.state.lock().unwrap();
        s.servers
            .get(id)
            .cloned()
            .ok_or_else(|| Self::not_found("showing a server"))
    }

    async fn evacuate(&self, id: &str, target: Option<&str>) -> Result<(), ComputeError> {
        let mut s = self.state.lock().unwrap();
        s.evacuations
            .push((id.to_owned(), target.map(str::to_owned)));
        if let Some(status) = s.refuse_evacuations {
            return Err(ComputeError::Refused {
                action: format!("evacuating server {id}"),
                status,
                message: "refused by the test".into(),
            });
        }
        let server = s
            .servers
            .get_mut(id)
            .ok_or_else(|| Self::not_found("evacuating a server"))?;
        server.host = Some(target.unwrap_or("elsewhere").to_owned());
        Ok(())
    }

    async fn stop_server(&self, _id: &str) -> Result<(), ComputeError> {
        Ok(())
    }

    async fn start_server(&self, _id: &str) -> Result<(), ComputeError> {
        Ok(())
    }

    async fn hard_reboot(&self, _id: &str) -> Result<(), ComputeError> {
        Ok(())
    }

    async fn reset_state(&self, id: &str, state: VmState) -> Result<(), ComputeError> {
        let mut s = self.state.lock().unwrap();
        if let Some(x) = s.servers.get_mut(id) {
            x.vm_state = state;
        }
        Ok(())
    }

    async fn aggregates(&self) -> Result<Vec<Aggregate>, ComputeError> {
        Ok(Vec::new())
    }

    async fn add_host_to_aggregate(&self, _a: &str, _h: &str) -> Result<(), ComputeError> {
        Ok(())
    }

    async fn remove_host_from_aggregate(&self, _a: &str, _h: &str) -> Result<(), ComputeError> {
        Ok(())
    }

    async fn evacuation_migrations(
        &self,
        source: &str,
        _since: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<EvacuationMigration>, ComputeError> {
        let mut s = self.state.lock().unwrap();
        s.migration_listings += 1;
        if let Some(status) = s.refuse_migrations {
            return Err(ComputeError::Refused {
                action: format!("listing the evacuation migrations from host {source}"),
                status,
                message: "Policy doesn't allow os_compute_api:os-migrations:index to be performed."
                    .into(),
            });
        }
        Ok(s.evacuations
            .iter()
            .enumerate()
            .map(|(i, (id, target))| EvacuationMigration {
                id: i as u64 + 1,
                instance_uuid: id.clone(),
                status: "done".into(),
                dest_compute: Some(target.clone().unwrap_or_else(|| "elsewhere".into())),
                updated_at: Some(SystemClock.now()),
            })
            .collect())
    }

    async fn hypervisors(&self) -> Result<Vec<Hypervisor>, ComputeError> {
        let s = self.state.lock().unwrap();
        Ok(s.services
            .iter()
            .map(|x| Hypervisor {
                host: x.host.clone(),
                vcpus: 16,
                vcpus_used: 0,
                memory_mb: 32768,
                memory_mb_used: 0,
            })
            .collect())
    }
}
