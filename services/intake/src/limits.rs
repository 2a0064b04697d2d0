//! Per-user limits on GPU work (issue 16): API Gateway's throttling is per stage and
//! shared by everyone, and sign-up is open, so without these one user could starve all
//! others. Counted from the user's own job records (one query each); past a limit the
//! API answers 429 with `Retry-After` and a message saying which limit and when.
//!
//! Two requests racing past the last free slot may both pass: the limits bound use, they
//! are not quotas to the unit.

use gen3d_domain::UserId;
use gen3d_ports::now_ms;

use crate::{ApiError, AppState};

const HOUR_MS: u64 = 3_600_000;
const DAY_MS: u64 = 24 * HOUR_MS;
/// What a client waits before asking again while objects are in flight.
const IN_FLIGHT_RETRY_S: u64 = 30;

/// Seconds until the oldest of `times` leaves a window of `window_ms` ending now.
fn until_window_frees(times: &[u64], window_ms: u64, now: u64) -> u64 {
    let oldest = times.iter().copied().min().unwrap_or(now);
    (oldest + window_ms).saturating_sub(now).div_ceil(1000)
}

fn in_words(seconds: u64) -> String {
    match seconds {
        0..=90 => format!("{seconds} seconds"),
        91..=5_400 => format!("{} minutes", seconds.div_ceil(60)),
        _ => format!("{} hours", seconds.div_ceil(3600)),
    }
}

/// Before a new session (one photo).
pub(crate) async fn check_photo(state: &AppState, user: &UserId) -> Result<(), ApiError> {
    let (limit, now) = (state.limits.photos_per_hour, now_ms());
    let recent: Vec<u64> = state.ports.jobs.sessions(user).await?.iter().map(|s| s.created_ms).filter(|t| now.saturating_sub(*t) < HOUR_MS).collect();
    if recent.len() as u64 >= u64::from(limit) {
        let wait = until_window_frees(&recent, HOUR_MS, now);
        return Err(ApiError::too_many(
            format!("you have started {limit} photos in the last hour, the most allowed; try again in {}", in_words(wait)),
            wait,
        ));
    }
    Ok(())
}

/// Before a new object.
pub(crate) async fn check_object(state: &AppState, user: &UserId) -> Result<(), ApiError> {
    let (limits, now) = (state.limits, now_ms());
    let objects = state.ports.jobs.user_objects(user).await?;
    let in_flight = objects.iter().filter(|o| !o.state.is_terminal()).count() as u64;
    if in_flight >= u64::from(limits.objects_in_flight) {
        return Err(ApiError::too_many(
            format!("{in_flight} of your objects are still being made, the most at once; submit this one when one of them is done"),
            IN_FLIGHT_RETRY_S,
        ));
    }
    let today: Vec<u64> = objects.iter().map(|o| o.created_ms).filter(|t| now.saturating_sub(*t) < DAY_MS).collect();
    if today.len() as u64 >= u64::from(limits.objects_per_day) {
        let wait = until_window_frees(&today, DAY_MS, now);
        return Err(ApiError::too_many(
            format!("you have made {} objects in the last 24 hours, the most allowed; try again in {}", limits.objects_per_day, in_words(wait)),
            wait,
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_until_the_oldest_leaves_the_window() {
        assert_eq!(until_window_frees(&[10_000, 5_000], HOUR_MS, 5_000 + HOUR_MS - 1_500), 2);
        assert_eq!(in_words(30), "30 seconds");
        assert_eq!(in_words(600), "10 minutes");
        assert_eq!(in_words(20_000), "6 hours");
    }
}
