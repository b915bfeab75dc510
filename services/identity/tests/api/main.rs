//! Identity's API, black-box: a real server on a free port, talked to with the generated client.

mod helpers;

mod card_and_profile;
mod first_access;
mod import;
mod invalid_input;
mod lockout;
mod logs;
mod refresh;
