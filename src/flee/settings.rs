//! The settings of the `flee` model: Flee 3.1's `simsetting.yml` keys, their
//! defaults, and which keys Flee reads but northbound does not need.
//!
//! Owns the key list and the defaults (FLEE_MODEL.md §2.9). Reading them
//! from YAML is `import`'s job and from TOML `scenario`'s.

/// How close to Flee 3.1 the model runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compat {
    /// What Flee's documentation intends, where 3.1 has a bug (the default).
    Intended,
    /// Flee 3.1's behaviour, bugs included, where it changes results.
    V31,
}

/// Where new agents come from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum SpawnMode {
    /// The day's increase in the observed refugee total (Flee's default).
    Data,
    /// `displaced_per_conflict_day` × intensity per conflict zone a day.
    Constant(f64),
    /// `displaced_per_conflict_day` × population × intensity a day.
    PopRatio(f64),
    /// Poisson with mean `displaced_per_conflict_day` × intensity.
    Poisson(f64),
}

/// Every setting the model uses, with Flee 3.1's names and defaults.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    /// km a day on a link (`max_move_speed`).
    pub max_move_speed: f64,
    /// km a day on foot (`max_walk_speed`).
    pub max_walk_speed: f64,
    /// Score factor of foreign places.
    pub foreign_weight: f64,
    /// Score factor of camps.
    pub camp_weight: f64,
    /// Score factor of conflict zones, raised to decay × intensity.
    pub conflict_weight: f64,
    /// Daily move chance in a conflict zone.
    pub conflict_movechance: f64,
    /// Daily move chance in a camp.
    pub camp_movechance: f64,
    /// Daily move chance in an IDP camp.
    pub idpcamp_movechance: f64,
    /// Daily move chance elsewhere.
    pub default_movechance: f64,
    /// Hops of look-ahead in route choice.
    pub awareness_level: u32,
    /// Occupancy share above which a camp attracts less.
    pub capacity_buffer: f64,
    /// Force an onward move after a short first hop.
    pub avoid_short_stints: bool,
    /// Walk the first hop.
    pub start_on_foot: bool,
    /// km added to every path length (`softening`).
    pub softening: f64,
    /// Added to every end-point score.
    pub weight_softening: f64,
    /// Power of the whole weight.
    pub weight_power: f64,
    /// Power of the distance.
    pub distance_power: f64,
    /// Score divided by distance to home ^ `home_distance_power`.
    pub stay_close_to_home: bool,
    /// Power of that distance.
    pub home_distance_power: f64,
    /// Score multiplied by population ^ `pop_power_for_loc_weight`.
    pub use_pop_for_loc_weight: bool,
    /// Power of that population.
    pub pop_power_for_loc_weight: f64,
    /// Population at which the move-chance scaling is 1.
    pub movechance_pop_base: f64,
    /// Power of the move-chance scaling by population (0: off).
    pub movechance_pop_scale_factor: f64,
    /// Spawned agents leave their origin's population.
    pub take_from_population: bool,
    /// Camps start with their observed day-0 count.
    pub insert_day0: bool,
    /// Only conflict zones spawn agents.
    pub conflict_zone_spawning_only: bool,
    /// Agents in camps leave the simulation with the camp's
    /// `deactivation_probability` a day.
    pub camps_are_sinks: bool,
    /// Spawn decay by 30-day bucket since the conflict began.
    pub conflict_spawn_decay: Vec<f64>,
    /// Where new agents come from.
    pub spawn: SpawnMode,
    /// People per agent (`optimisations.hasten`).
    pub hasten: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            max_move_speed: 360.0,
            max_walk_speed: 35.0,
            foreign_weight: 1.0,
            camp_weight: 1.0,
            conflict_weight: 1.0 / 3.16227766017,
            conflict_movechance: 1.0,
            camp_movechance: 0.001,
            idpcamp_movechance: 0.1,
            default_movechance: 0.3,
            awareness_level: 1,
            capacity_buffer: 0.9,
            avoid_short_stints: false,
            start_on_foot: false,
            softening: 10.0,
            weight_softening: 0.0,
            weight_power: 1.0,
            distance_power: 1.0,
            stay_close_to_home: false,
            home_distance_power: 0.5,
            use_pop_for_loc_weight: false,
            pop_power_for_loc_weight: 0.1,
            movechance_pop_base: 10000.0,
            movechance_pop_scale_factor: 0.0,
            take_from_population: false,
            insert_day0: true,
            conflict_zone_spawning_only: true,
            camps_are_sinks: false,
            conflict_spawn_decay: Vec::new(),
            spawn: SpawnMode::Data,
            hasten: 1,
        }
    }
}

/// The kind of a setting's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A number.
    Num,
    /// A whole number ≥ 0.
    Count,
    /// true / false.
    Bool,
    /// A list of numbers.
    List,
}

/// The numeric and boolean settings by name: (name, kind).
pub const KEYS: &[(&str, Kind)] = &[
    ("max_move_speed", Kind::Num),
    ("max_walk_speed", Kind::Num),
    ("foreign_weight", Kind::Num),
    ("camp_weight", Kind::Num),
    ("conflict_weight", Kind::Num),
    ("conflict_movechance", Kind::Num),
    ("camp_movechance", Kind::Num),
    ("idpcamp_movechance", Kind::Num),
    ("default_movechance", Kind::Num),
    ("awareness_level", Kind::Count),
    ("capacity_buffer", Kind::Num),
    ("avoid_short_stints", Kind::Bool),
    ("start_on_foot", Kind::Bool),
    ("softening", Kind::Num),
    ("weight_softening", Kind::Num),
    ("weight_power", Kind::Num),
    ("distance_power", Kind::Num),
    ("stay_close_to_home", Kind::Bool),
    ("home_distance_power", Kind::Num),
    ("use_pop_for_loc_weight", Kind::Bool),
    ("pop_power_for_loc_weight", Kind::Num),
    ("movechance_pop_base", Kind::Num),
    ("movechance_pop_scale_factor", Kind::Num),
    ("take_from_population", Kind::Bool),
    ("insert_day0", Kind::Bool),
    ("conflict_zone_spawning_only", Kind::Bool),
    ("camps_are_sinks", Kind::Bool),
    ("conflict_spawn_decay", Kind::List),
    ("hasten", Kind::Count),
];

/// Keys Flee 3.1 reads that change nothing in northbound's model, with why.
pub const INERT: &[(&str, &str)] = &[
    ("max_crossing_speed", "Flee 3.1 parses it but never uses it"),
    (
        "use_v1_rules",
        "applied at import: it sets the speed and weights it stands for",
    ),
    ("read_from_agents_csv_file", "agents.csv is not supported"),
    ("flood_zone_spawning_only", "flood rules are a prototype in Flee 3.1"),
    (
        "ChildrenAvoidHazards",
        "needs demographic attributes, which northbound does not model",
    ),
    (
        "BoysTakeRisk",
        "needs demographic attributes, which northbound does not model",
    ),
    ("MatchCampEthnicity", "raises NameError in Flee 3.1"),
    ("MatchTownEthnicity", "raises NameError in Flee 3.1"),
    ("MatchConflictEthnicity", "raises NameError in Flee 3.1"),
];

impl Settings {
    /// Sets a numeric or boolean setting by name; `Err` says what is valid.
    pub fn set(&mut self, key: &str, v: &Value) -> Result<(), String> {
        let num = || match v {
            Value::Num(x) if x.is_finite() => Ok(*x),
            _ => Err("a number".to_string()),
        };
        let nonneg = || num().and_then(|x| if x >= 0.0 { Ok(x) } else { Err("a number ≥ 0".into()) });
        let chance = || {
            num().and_then(|x| {
                if (0.0..=1.0).contains(&x) {
                    Ok(x)
                } else {
                    Err("a chance in [0, 1]".into())
                }
            })
        };
        let positive = || num().and_then(|x| if x > 0.0 { Ok(x) } else { Err("a number > 0".into()) });
        let boolean = || match v {
            Value::Bool(b) => Ok(*b),
            _ => Err("true or false".to_string()),
        };
        let count = || match v {
            Value::Num(x) if *x >= 0.0 && x.fract() == 0.0 && *x < 1e6 => Ok(*x as u32),
            _ => Err("a whole number ≥ 0".to_string()),
        };
        match key {
            "max_move_speed" => self.max_move_speed = positive()?,
            "max_walk_speed" => self.max_walk_speed = positive()?,
            "foreign_weight" => self.foreign_weight = nonneg()?,
            "camp_weight" => self.camp_weight = nonneg()?,
            "conflict_weight" => self.conflict_weight = nonneg()?,
            "conflict_movechance" => self.conflict_movechance = chance()?,
            "camp_movechance" => self.camp_movechance = chance()?,
            "idpcamp_movechance" => self.idpcamp_movechance = chance()?,
            "default_movechance" => self.default_movechance = chance()?,
            "awareness_level" => {
                let a = count()?;
                if !(1..=6).contains(&a) {
                    return Err("a whole number from 1 to 6 (0 freezes every agent in Flee 3.1; \
                                the search grows as branching^level)"
                        .into());
                }
                self.awareness_level = a
            }
            "capacity_buffer" => {
                let b = chance()?;
                if b >= 1.0 {
                    return Err("a share in [0, 1)".into());
                }
                self.capacity_buffer = b
            }
            "avoid_short_stints" => self.avoid_short_stints = boolean()?,
            "start_on_foot" => self.start_on_foot = boolean()?,
            "softening" => self.softening = nonneg()?,
            "weight_softening" => self.weight_softening = nonneg()?,
            "weight_power" => self.weight_power = nonneg()?,
            "distance_power" => self.distance_power = nonneg()?,
            "stay_close_to_home" => self.stay_close_to_home = boolean()?,
            "home_distance_power" => self.home_distance_power = nonneg()?,
            "use_pop_for_loc_weight" => self.use_pop_for_loc_weight = boolean()?,
            "pop_power_for_loc_weight" => self.pop_power_for_loc_weight = nonneg()?,
            "movechance_pop_base" => self.movechance_pop_base = positive()?,
            "movechance_pop_scale_factor" => self.movechance_pop_scale_factor = nonneg()?,
            "take_from_population" => self.take_from_population = boolean()?,
            "insert_day0" => self.insert_day0 = boolean()?,
            "conflict_zone_spawning_only" => self.conflict_zone_spawning_only = boolean()?,
            "camps_are_sinks" => self.camps_are_sinks = boolean()?,
            "conflict_spawn_decay" => match v {
                Value::List(xs) if xs.iter().all(|x| x.is_finite() && *x >= 0.0) => {
                    self.conflict_spawn_decay = xs.clone()
                }
                _ => return Err("a list of numbers ≥ 0, e.g. [1.0, 1.0, 1.0, 0.5, 0.1]".into()),
            },
            "hasten" => {
                let h = count()?;
                if h == 0 {
                    return Err("a whole number ≥ 1".into());
                }
                self.hasten = h
            }
            _ => {
                return Err(format!(
                    "one of {}",
                    KEYS.iter().map(|k| k.0).collect::<Vec<_>>().join(", ")
                ))
            }
        }
        Ok(())
    }

    /// The value of a setting by name, for writing scenarios.
    pub fn get(&self, key: &str) -> Option<Value> {
        Some(match key {
            "max_move_speed" => Value::Num(self.max_move_speed),
            "max_walk_speed" => Value::Num(self.max_walk_speed),
            "foreign_weight" => Value::Num(self.foreign_weight),
            "camp_weight" => Value::Num(self.camp_weight),
            "conflict_weight" => Value::Num(self.conflict_weight),
            "conflict_movechance" => Value::Num(self.conflict_movechance),
            "camp_movechance" => Value::Num(self.camp_movechance),
            "idpcamp_movechance" => Value::Num(self.idpcamp_movechance),
            "default_movechance" => Value::Num(self.default_movechance),
            "awareness_level" => Value::Num(self.awareness_level as f64),
            "capacity_buffer" => Value::Num(self.capacity_buffer),
            "avoid_short_stints" => Value::Bool(self.avoid_short_stints),
            "start_on_foot" => Value::Bool(self.start_on_foot),
            "softening" => Value::Num(self.softening),
            "weight_softening" => Value::Num(self.weight_softening),
            "weight_power" => Value::Num(self.weight_power),
            "distance_power" => Value::Num(self.distance_power),
            "stay_close_to_home" => Value::Bool(self.stay_close_to_home),
            "home_distance_power" => Value::Num(self.home_distance_power),
            "use_pop_for_loc_weight" => Value::Bool(self.use_pop_for_loc_weight),
            "pop_power_for_loc_weight" => Value::Num(self.pop_power_for_loc_weight),
            "movechance_pop_base" => Value::Num(self.movechance_pop_base),
            "movechance_pop_scale_factor" => Value::Num(self.movechance_pop_scale_factor),
            "take_from_population" => Value::Bool(self.take_from_population),
            "insert_day0" => Value::Bool(self.insert_day0),
            "conflict_zone_spawning_only" => Value::Bool(self.conflict_zone_spawning_only),
            "camps_are_sinks" => Value::Bool(self.camps_are_sinks),
            "conflict_spawn_decay" => Value::List(self.conflict_spawn_decay.clone()),
            "hasten" => Value::Num(self.hasten as f64),
            _ => return None,
        })
    }

    /// Flee's `use_v1_rules`: the old speed and weights.
    pub fn apply_v1_rules(&mut self) {
        self.max_move_speed = 200.0;
        self.start_on_foot = false;
        self.avoid_short_stints = false;
        self.camp_weight = 2.0;
        self.conflict_weight = 0.25;
    }

    /// Spawn decay `days` after a conflict began (1 without a list).
    pub fn decay(&self, days: i64) -> f64 {
        if self.conflict_spawn_decay.is_empty() {
            return 1.0;
        }
        // Python's int() truncates toward zero, as `as` does.
        let i = ((days as f64 / 30.0) as i64).clamp(0, self.conflict_spawn_decay.len() as i64 - 1);
        self.conflict_spawn_decay[i as usize]
    }
}

/// A setting's value, whatever file it came from.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// A number.
    Num(f64),
    /// true / false.
    Bool(bool),
    /// A list of numbers.
    List(Vec<f64>),
}
