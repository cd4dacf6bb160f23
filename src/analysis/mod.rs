//! Pure analysis functions over the atlas: access distances, capacity-aware
//! access (2SFCA), gaps, and ward/district roll-ups. No HTTP, no files.
