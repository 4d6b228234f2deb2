# Sourced by the benchmarks: shared installs.

# Masakari 22 (API and engine) with the RabbitMQ it casts to: the tests' venv, installed by
# scripts/setup/masakari.sh (idempotent); sets MASAKARI_VENV.
need_masakari() {
  bash scripts/setup/masakari.sh
  export MASAKARI_VENV="${LIFEBOAT_TEST_ROOT:-$HOME/.cache/lifeboat-test}/masakari"
}

# The release binary; sets LIFEBOAT_BIN.
build_release() {
  cargo build --release -q --bin lifeboat
  export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
  export LIFEBOAT_BIN="$CARGO_TARGET_DIR/release/lifeboat"
}
