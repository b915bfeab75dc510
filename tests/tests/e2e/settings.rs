//! Every process's settings, tried from outside: each of the seven binaries, with each variable it reads set to a
//! bad value, stops before it opens anything, names the variable and exits non-zero; `--help` lists every variable
//! and exits 0 without creating a database; and the README's table names exactly the variables the binaries read.

use std::{collections::BTreeSet, path::Path, process::Command};

use clap::CommandFactory;

/// A value each variable refuses, by name. A variable a binary reads that is missing here fails the test, so a new
/// setting comes with a value it must refuse.
const BAD_VALUES: &[(&str, &str)] = &[
    ("ONEWINDOW_LISTEN_ADDR", "somewhere:port"),
    ("ONEWINDOW_DATABASE_URL", "mysql://db/onewindow"),
    ("ONEWINDOW_DATABASE_POOL_SIZE", "0"),
    ("ONEWINDOW_NATS_URL", "http://127.0.0.1:4222"),
    ("ONEWINDOW_NATS_STREAM_REPLICAS", "three"),
    ("ONEWINDOW_IDENTITY_URL", "127.0.0.1:50051"),
    ("ONEWINDOW_CATALOG_URL", "catalog"),
    ("ONEWINDOW_DOCUMENTS_URL", "ftp://documents"),
    ("ONEWINDOW_BLOB_STORE", "s3://bucket"),
    ("ONEWINDOW_ATTACHMENTS_BUCKET", "my bucket"),
    ("ONEWINDOW_ATTACHMENT_MAX_BYTES", "ten"),
    ("ONEWINDOW_ATTACHMENT_TYPES", "text/x-made-up"),
    ("ONEWINDOW_ROUTING_DEADLINE_SCAN_SECONDS", "0"),
    ("ONEWINDOW_VERIFY_URL", "onewindow.kz/verify"),
    ("ONEWINDOW_VERIFY_PER_MINUTE", "abc"),
    ("ONEWINDOW_SIGN_IN_PER_MINUTE", "-5"),
    ("ONEWINDOW_TRUST_FORWARDED_FOR", "perhaps"),
    ("ONEWINDOW_SMTP_URL", "mail.kaznu.kz"),
    ("ONEWINDOW_MAIL_FROM", "not a mailbox"),
    ("RUST_LOG", "info,[unclosed"),
    ("LOG_FORMAT", "xml"),
    ("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4317"),
];

/// Variables every value of which is valid (a folder name).
const ANY_VALUE: &[&str] = &["ONEWINDOW_DATA_DIR"];

/// Each binary, the arguments that select the settings checked, and their command-line definition.
fn binaries() -> Vec<(&'static str, &'static [&'static str], clap::Command)> {
    let run = onewindow::cli::Cli::command().find_subcommand("run").cloned().expect("onewindow run");
    let with_top_level = run.args(onewindow::cli::Cli::command().get_arguments().cloned().collect::<Vec<_>>());
    vec![
        ("onewindow-identity", &[], onewindow_identity::Settings::command()),
        ("onewindow-catalog", &[], onewindow_catalog::Settings::command()),
        ("onewindow-applications", &[], onewindow_applications::Settings::command()),
        ("onewindow-routing", &[], onewindow_routing::Settings::command()),
        ("onewindow-documents", &[], onewindow_documents::Settings::command()),
        ("onewindow-notifications", &[], onewindow_notifications::Settings::command()),
        ("onewindow", &["run"], with_top_level),
    ]
}

fn variables_of(command: &clap::Command) -> BTreeSet<String> {
    command.get_arguments().filter_map(|a| a.get_env()).map(|v| v.to_string_lossy().into_owned()).collect()
}

/// The binary in a fresh, empty folder with none of the project's variables set.
fn in_empty_folder(binary: &str, args: &[&str]) -> (Command, std::path::PathBuf) {
    let folder = std::env::temp_dir().join(format!("onewindow-settings-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&folder).expect("a scratch folder");
    let mut command = Command::new(onewindow_tests::binary(binary).expect("built binaries"));
    command.args(args).current_dir(&folder);
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if name.starts_with("ONEWINDOW_") || BAD_VALUES.iter().any(|(v, _)| *v == name) {
            command.env_remove(name.as_ref());
        }
    }
    (command, folder)
}

fn is_empty(folder: &Path) -> bool {
    std::fs::read_dir(folder).map(|mut entries| entries.next().is_none()).unwrap_or(false)
}

#[test]
fn a_bad_value_of_any_variable_stops_every_binary_naming_it() {
    let mut tried = 0;
    for (binary, args, command) in binaries() {
        let variables = variables_of(&command);
        assert!(variables.contains("ONEWINDOW_LISTEN_ADDR"), "{binary} reads its address: {variables:?}");
        for variable in variables.iter().filter(|v| !ANY_VALUE.contains(&v.as_str())) {
            let bad = BAD_VALUES.iter().find(|(name, _)| name == variable).map(|(_, bad)| *bad);
            let bad = bad.unwrap_or_else(|| panic!("{binary} reads {variable}: add a value it refuses to BAD_VALUES"));
            let (mut process, folder) = in_empty_folder(binary, args);
            let output = process.env(variable, bad).output().expect("the binary runs");
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_eq!(output.status.code(), Some(2), "{binary} with {variable}={bad:?}: {stderr}");
            assert!(
                stderr.contains(&format!("{variable}={bad}")),
                "{binary} names {variable} when it refuses {bad:?}: {stderr}"
            );
            assert!(is_empty(&folder), "{binary} with {variable}={bad:?} created files before refusing");
            let _ = std::fs::remove_dir_all(folder);
            tried += 1;
        }
    }
    assert!(tried > 40, "only {tried} refusals tried");
}

#[test]
fn help_lists_every_variable_and_opens_nothing() {
    for (binary, args, command) in binaries() {
        let (mut process, folder) = in_empty_folder(binary, args);
        let output = process.arg("--help").output().expect("the binary runs");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert_eq!(output.status.code(), Some(0), "{binary} --help: {}", String::from_utf8_lossy(&output.stderr));
        for variable in variables_of(&command) {
            assert!(stdout.contains(&variable), "{binary} --help names {variable}:\n{stdout}");
        }
        assert!(is_empty(&folder), "{binary} --help created files (a database?)");
        let _ = std::fs::remove_dir_all(folder);
    }
}

#[test]
fn the_readme_table_names_exactly_the_variables_read() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md")).expect("README");
    let documented: BTreeSet<String> = readme
        .lines()
        .filter_map(|line| line.strip_prefix("| `"))
        .filter_map(|rest| rest.split('`').next())
        .filter(|name| name.chars().all(|c| c.is_ascii_uppercase() || c == '_') && name.contains('_'))
        .map(str::to_owned)
        .collect();
    let mut read: BTreeSet<String> = binaries().iter().flat_map(|(_, _, command)| variables_of(command)).collect();
    read.extend(onewindow_server::settings::variables::<onewindow::cli::Cli>());
    let undocumented: Vec<_> = read.difference(&documented).collect();
    let unread: Vec<_> = documented.difference(&read).collect();
    assert!(undocumented.is_empty(), "read but not in the README's table: {undocumented:?}");
    assert!(unread.is_empty(), "in the README's table but read by no binary: {unread:?}");
}
