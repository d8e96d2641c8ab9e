fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("truth") {
        return tca_twitch_fake::truth_main(&args[1..]);
    }
    tca_common::bootstrap::run_main::<tca_twitch_fake::TwitchFake>()
}
