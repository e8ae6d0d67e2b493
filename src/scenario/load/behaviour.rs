//! The `[behaviour]` table: the choice model's weights, learning, news,
//! speeds and fares per mode, departures' response, caravans.
//!
//! Owns `BEHAVIOUR_KEYS` and every rule about a behaviour parameter. Must
//! not read any other section (routes read the speeds and fares it gives).

use super::{Loader, MAX_DAYS};
use crate::scenario::diag::closest;
use crate::scenario::model::*;
use crate::scenario::read::{Sp, Tbl};

const BEHAVIOUR_KEYS: &[&str] = &[
    "model",
    "w_open",
    "w_dist",
    "w_cost",
    "w_risk",
    "replan_days",
    "news_delay_days",
    "learn_per_user",
    "learn_window_days",
    "speed_km_per_day",
    "fare_usd_per_km",
    "harm_outcome",
    "no_target",
    "w_fail",
    "w_bar",
    "memory_trials",
    "learn_at_door",
    "learn_per_return",
    "depart_elasticity",
    "family_pace",
    "caravan_breakup",
];

impl Loader<'_, '_> {
    pub(super) fn behaviour(&mut self, root: &mut Tbl) -> Option<Behaviour> {
        let mut b = Behaviour::default();
        let Some(mut t) = root.sub(self.r, "behaviour") else {
            return Some(b);
        };
        let before = self.r.problems.len();
        self.behaviour_model(&mut t, &mut b);
        let w = "a weight ≥ 0";
        if let Some(v) = self.non_negative(&mut t, "w_open", false, w) {
            b.w_open = v.v;
        }
        if let Some(v) = self.non_negative(&mut t, "w_dist", false, w) {
            b.w_dist = v.v;
        }
        if let Some(v) = self.non_negative(&mut t, "w_cost", false, w) {
            b.w_cost = v.v;
        }
        if let Some(v) = self.non_negative(&mut t, "w_risk", false, w) {
            b.w_risk = v.v;
        }
        if let Some(v) = self.count(&mut t, "replan_days", false, 1, "a whole number of days ≥ 1") {
            b.replan_days = v.v.min(MAX_DAYS as u64) as u32;
        }
        self.news_delay(&mut t, &mut b);
        if let Some(v) = self.below_one(
            &mut t,
            "learn_per_user",
            "the daily chance of learning per recent user, a probability below 1",
        ) {
            b.learn_per_user = v;
        }
        if let Some(v) = self.count(&mut t, "learn_window_days", false, 1, "a whole number of days ≥ 1") {
            b.learn_window_days = v.v.min(MAX_DAYS as u64) as u32;
        }
        if let Some(v) = self.non_negative(&mut t, "w_fail", false, w) {
            b.w_fail = v.v;
        }
        if let Some(v) = self.non_negative(&mut t, "w_bar", false, w) {
            b.w_bar = v.v;
        }
        if let Some(v) = self.non_negative(
            &mut t,
            "memory_trials",
            false,
            "attempts the perceived rules count for against a group's own failures, ≥ 0",
        ) {
            b.memory_trials = v.v;
        }
        if let Some(v) = self.rate(&mut t, "learn_at_door", false) {
            b.learn_at_door = v;
        }
        if let Some(v) = self.below_one(
            &mut t,
            "learn_per_return",
            "the daily chance of learning per recent return, a probability below 1",
        ) {
            b.learn_per_return = v;
        }
        if let Some(v) = self.non_negative(
            &mut t,
            "depart_elasticity",
            false,
            "an elasticity ≥ 0 (0: departures ignore prospects)",
        ) {
            b.depart_elasticity = v.v;
        }
        if let Some(v) = self.share(
            &mut t,
            "family_pace",
            false,
            "a family's walking speed as a share of a lone walker's, in (0, 1]",
        ) {
            b.family_pace = v;
        }
        if let Some(v) = self.share(
            &mut t,
            "caravan_breakup",
            true,
            "a share in [0, 1] of the caravan's largest size (0: caravans never break up at once)",
        ) {
            b.caravan_breakup = v;
        }
        self.per_mode(
            &mut t,
            "fare_usd_per_km",
            &mut b.fare_usd_per_km,
            Self::non_negative,
            "US dollars per person and km, ≥ 0",
        );
        self.per_mode(
            &mut t,
            "speed_km_per_day",
            &mut b.speed_km_per_day,
            Self::positive,
            "a speed in km per day, > 0",
        );
        if let Some(v) = t.bool(self.r, "harm_outcome", "true or false") {
            b.harm_outcome = v.v;
        }
        if let Some(v) = t.str(self.r, "no_target", false, "") {
            match v.v.as_str() {
                "settle" => b.no_target = NoTarget::Settle,
                "return_home" => b.no_target = NoTarget::ReturnHome,
                other => self.r.err(
                    v.span,
                    &t.field("no_target"),
                    format!("unknown choice \"{other}\""),
                    "valid: \"settle\", \"return_home\"",
                ),
            }
        }
        t.finish(self.r, BEHAVIOUR_KEYS);
        (self.r.problems.len() == before).then_some(b)
    }

    /// `behaviour.model`: only "default" is loaded here; a "flee" model is
    /// a different file layout, so it gets its own message pointing there.
    fn behaviour_model(&mut self, t: &mut Tbl, b: &mut Behaviour) {
        if let Some(m) = t.str(self.r, "model", false, "") {
            match m.v.as_str() {
                "default" => b.model = Model::Default,
                "flee" => self.r.err(
                    m.span,
                    &t.field("model"),
                    "a `flee` scenario has its own layout (Flee's places, routes, conflicts and settings)",
                    "load it with `northbound::flee::load` (the CLI does so by itself); see docs/flee.md",
                ),
                other => {
                    let help = closest(other, ["default", "flee"])
                        .map(|c| format!("did you mean \"{c}\"? "))
                        .unwrap_or_default();
                    self.r.err(
                        m.span,
                        &t.field("model"),
                        format!("unknown behaviour model \"{other}\""),
                        format!("{help}valid: \"default\", \"flee\""),
                    );
                }
            }
        }
    }

    /// `behaviour.news_delay_days`: mean and max are checked against each
    /// other, and max must fit the engine's one-byte delay.
    fn news_delay(&mut self, t: &mut Tbl, b: &mut Behaviour) {
        if let Some(mut n) = t.sub(self.r, "news_delay_days") {
            let mean = self.non_negative(&mut n, "mean", false, "mean delay in days, ≥ 0");
            let max = self.count(&mut n, "max", false, 0, "longest delay in whole days, 0 to 255");
            if let Some(m) = &mean {
                b.news_delay_mean = m.v;
            }
            if let Some(m) = &max {
                if m.v > 255 {
                    self.r.err(
                        m.span.clone(),
                        &n.field("max"),
                        format!("{} days is too long", m.v),
                        "news delays are at most 255 days",
                    );
                } else {
                    b.news_delay_max = m.v as u32;
                }
            }
            if let (Some(m), Some(x)) = (&mean, &max) {
                if m.v > x.v as f64 {
                    self.r.err(
                        m.span.clone(),
                        &n.field("mean"),
                        format!("mean {} is above max {}", m.v, x.v),
                        "the mean delay must not exceed the longest delay",
                    );
                }
            }
            n.finish(self.r, &["mean", "max"]);
        }
    }

    /// A daily chance in [0, 1): 1 would make learning certain on the
    /// first day, which the learning model's geometric wait cannot express.
    fn below_one(&mut self, t: &mut Tbl, key: &str, help: &str) -> Option<f64> {
        let v = t.num(self.r, key, false, "a probability in [0, 1)")?;
        if !(0.0..1.0).contains(&v.v) {
            self.r
                .err(v.span, &t.field(key), format!("{} is outside [0, 1)", v.v), help);
            return None;
        }
        Some(v.v)
    }

    /// A sub-table with one number per travel mode (fares, speeds): the
    /// modes' names are its only keys, and `read` decides what is valid.
    fn per_mode(
        &mut self,
        t: &mut Tbl,
        key: &str,
        out: &mut [f64; 7],
        read: fn(&mut Self, &mut Tbl, &str, bool, &str) -> Option<Sp<f64>>,
        what: &str,
    ) {
        let Some(mut s) = t.sub(self.r, key) else { return };
        let names: Vec<&str> = Mode::NAMES.iter().map(|(n, _)| *n).collect();
        for (name, mode) in Mode::NAMES {
            if let Some(v) = read(self, &mut s, name, false, what) {
                out[mode as usize] = v.v;
            }
        }
        s.finish(self.r, &names);
    }
}
