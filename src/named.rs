//! Named enums: a fieldless enum whose variants and their names in files
//! and tables are listed once ([`named_enum!`]).
//!
//! Owns the macro only. Must not know any enum it declares: each stays in
//! the module that owns what it means (`agents::State`, `engine::Col`,
//! `scenario::PlaceKind`, …).

/// Declares a fieldless enum from one list of `Variant => "name"` (with
/// an optional `= discriminant`), and with it `ALL` (every variant in
/// declaration order), `NAMES` (each variant with its name, for parsers
/// that look a name up and list the valid ones) and `name()`. A variant
/// added to the list is in all three: they cannot disagree.
macro_rules! named_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident $(= $disc:literal)? => $text:literal, )+
        }
    ) => {
        $(#[$meta])*
        $vis enum $name {
            $( $(#[$vmeta])* $variant $(= $disc)?, )+
        }

        impl $name {
            /// Every variant, in table order.
            pub const ALL: [$name; [$($text),+].len()] = [$($name::$variant),+];

            /// Every variant with its name in files and tables.
            pub const NAMES: [(&'static str, $name); [$($text),+].len()] = [$(($text, $name::$variant)),+];

            /// Name in files and tables.
            pub fn name(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }
        }
    };
}

pub(crate) use named_enum;

#[cfg(test)]
mod tests {
    named_enum! {
        /// A test enum.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        enum Colour {
            Red = 3 => "red",
            Green = 4 => "green",
        }
    }

    #[test]
    fn all_names_and_name_follow_the_one_list() {
        assert_eq!(Colour::ALL, [Colour::Red, Colour::Green]);
        assert_eq!(Colour::NAMES, [("red", Colour::Red), ("green", Colour::Green)]);
        assert_eq!(Colour::Green.name(), "green");
        assert_eq!(Colour::Green as u8, 4);
    }
}
