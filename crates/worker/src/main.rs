fn main() -> std::process::ExitCode {
    tca_common::bootstrap::run_main::<tca_worker::Worker>()
}
