//! `northbound check` on the default model: a scenario validated and
//! summarised without running it.
//!
//! Owns what `check` prints. Must not load or validate itself: `scenario` does.

use super::*;

pub(super) fn check(input: &Input) -> Outcome {
    let path = input.path();
    let sc = load(input)?;
    let mut o = std::io::stdout().lock();
    let cal = sc.calendar;
    let mut s = format!("{}: ok\n", path.display());
    s += &format!(
        "scenario  {} ({} to {}, {} days, seed {})\n",
        sc.about.name,
        cal.start,
        cal.end(),
        cal.days,
        sc.seed
    );
    let claim_points = sc.places.iter().filter(|p| p.claims).count();
    s += &format!("places    {} ({} claim points)\n", sc.places.len(), claim_points);
    s += &format!("routes    {} ({} directed legs)\n", sc.routes.len(), sc.legs.len());
    s += &format!("cohorts   {} ({} people)\n", sc.cohorts.len(), sc.people());
    for c in &sc.cohorts {
        let whence = match c.stock {
            None => format!("from {}", sc.places[c.origin as usize].id),
            Some(crate::scenario::Stock { place, leg: None, .. }) => {
                format!(
                    "waiting at {} on the start date (a stock)",
                    sc.places[place as usize].id
                )
            }
            Some(crate::scenario::Stock {
                leg: Some(l),
                days_left,
                ..
            }) => {
                let leg = &sc.legs[l as usize];
                format!(
                    "on route {} to {}, {days_left} days left on the start date (a stock)",
                    sc.routes[leg.route as usize].id, sc.places[leg.to as usize].id
                )
            }
        };
        s += &format!("  {:<24} {:>12} people  {}  {whence}\n", c.id, c.people, c.nationality);
    }
    s += &format!("policies  {}\n", sc.policies.len());
    for p in &sc.policies {
        let who = match &p.nationalities {
            Some(n) => format!(
                "  nationalities {}",
                n.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(",")
            ),
            None => String::new(),
        };
        s += &format!(
            "  {:<24} {:<12} {} to {}{}\n",
            p.id,
            p.kind.name(),
            cal.date_of(p.from),
            cal.date_of(p.until),
            who
        );
    }
    if !sc.variants.is_empty() {
        s += &format!(
            "variants  {}\n",
            sc.variants.iter().map(|v| v.id.as_str()).collect::<Vec<_>>().join(", ")
        );
    }
    if let Some(h) = &sc.headline {
        s += &format!("headline  {}\n", h.text);
    }
    if !sc.caravans.is_empty() {
        s += &format!("caravans  {}\n", sc.caravans.join(", "));
    }
    if !sc.uncertain.is_empty() {
        s += &format!("uncertain {} inputs\n", sc.uncertain.len());
        for u in &sc.uncertain {
            s += &format!("  {:<48} {:>12}  {} (line {})\n", u.path, u.value, u.describe(), u.line);
        }
    }
    for n in &sc.notes {
        s += &format!("note: {n}\n");
    }
    let need = sc.people() as u128 * crate::agents::BYTES_PER_AGENT as u128;
    s += &format!("memory    at most {} for agents\n", human_bytes(need));
    say(&mut o, &s);
    Ok(())
}
