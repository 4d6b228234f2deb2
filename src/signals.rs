//! Signals of the long-running commands: SIGTERM and SIGINT stop (a second one exits at once),
//! SIGHUP asks for a reload instead of killing (logrotate and `systemctl reload` send it).

use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio_util::sync::CancellationToken;

/// The SIGHUPs received once [`install`] has run.
#[derive(Debug)]
pub struct Hangups(Option<Signal>);

impl Hangups {
    /// Waits for the next SIGHUP (forever if the handler could not be installed).
    pub async fn recv(&mut self) {
        match &mut self.0 {
            Some(hangup) => {
                hangup.recv().await;
            }
            None => std::future::pending().await,
        }
    }
}

/// Installs the handlers: the first SIGTERM or SIGINT cancels `shutdown`, a second one ends
/// the process at once; SIGHUPs no longer kill it but arrive through the returned [`Hangups`].
pub fn install(shutdown: CancellationToken) -> Hangups {
    let listen = |kind: SignalKind, name: &str| match signal(kind) {
        Ok(s) => Some(s),
        Err(e) => {
            tracing::warn!(signal = name, error = %e, "cannot listen for the signal");
            None
        }
    };
    let hangups = Hangups(listen(SignalKind::hangup(), "SIGHUP"));
    let mut terminate = listen(SignalKind::terminate(), "SIGTERM");
    let mut interrupt = listen(SignalKind::interrupt(), "SIGINT");
    tokio::spawn(async move {
        let first = stop_signal(&mut terminate, &mut interrupt).await;
        tracing::info!(signal = first.name(), "shutting down");
        shutdown.cancel();
        let second = stop_signal(&mut terminate, &mut interrupt).await;
        tracing::warn!(signal = second.name(), "second stop signal: exiting now");
        exit_now(second.exit_code());
    });
    hangups
}

#[derive(Debug, Clone, Copy)]
enum Stop {
    Terminate,
    Interrupt,
}

impl Stop {
    fn name(self) -> &'static str {
        match self {
            Self::Terminate => "SIGTERM",
            Self::Interrupt => "SIGINT",
        }
    }

    /// 128 + the signal's number, as a shell reports a process killed by it.
    fn exit_code(self) -> i32 {
        match self {
            Self::Terminate => 143,
            Self::Interrupt => 130,
        }
    }
}

async fn stop_signal(terminate: &mut Option<Signal>, interrupt: &mut Option<Signal>) -> Stop {
    async fn next(signal: &mut Option<Signal>) {
        match signal {
            Some(s) => {
                s.recv().await;
            }
            None => std::future::pending().await,
        }
    }
    tokio::select! {
        () = next(terminate) => Stop::Terminate,
        () = next(interrupt) => Stop::Interrupt,
    }
}

#[expect(
    clippy::exit,
    reason = "an operator's second stop signal means now: nothing may hold the exit up"
)]
fn exit_now(code: i32) -> ! {
    std::process::exit(code)
}
