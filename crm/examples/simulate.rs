//! Development driver: `cargo run -p lifeboat-crm --example simulate -- CIB.xml` prints what
//! `lifeboat crm simulate --xml-file CIB.xml` prints, without building the whole binary.

use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: simulate CIB.xml");
        return ExitCode::from(2);
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("read {path}: {e}");
            return ExitCode::FAILURE;
        }
    };
    match lifeboat_crm::cib::parse(&text) {
        Ok(cluster) => {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64);
            let t = lifeboat_crm::schedule(&cluster, now);
            print!("{}", lifeboat_crm::output::simulate_text(&cluster, &t));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
