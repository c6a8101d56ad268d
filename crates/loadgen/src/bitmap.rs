//! A growable set of small numbers (a room's message sequence numbers), one bit each.

/// Set of `u32`, stored as bits.
#[derive(Debug, Default, Clone)]
pub struct Bitmap(Vec<u64>);

impl Bitmap {
    /// Adds `n`; `true` when it was not there yet.
    pub fn insert(&mut self, n: u32) -> bool {
        let (word, bit) = (n as usize / 64, n % 64);
        if word >= self.0.len() {
            self.0.resize(word + 1, 0);
        }
        let had = self.0[word] & (1 << bit) != 0;
        self.0[word] |= 1 << bit;
        !had
    }

    /// How many numbers of `self` are not in `other`.
    pub fn missing_from(&self, other: &Bitmap) -> u64 {
        let other_word = |i: usize| other.0.get(i).copied().unwrap_or(0);
        self.0.iter().enumerate().map(|(i, w)| u64::from((w & !other_word(i)).count_ones())).sum()
    }
}

impl Bitmap {
    /// The numbers of `self` that are not in `other`.
    pub fn missing(&self, other: &Bitmap) -> Vec<u32> {
        let other_word = |i: usize| other.0.get(i).copied().unwrap_or(0);
        let mut found = Vec::new();
        for (i, word) in self.0.iter().enumerate() {
            let mut left = word & !other_word(i);
            while left != 0 {
                found.push(i as u32 * 64 + left.trailing_zeros());
                left &= left - 1;
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_compares() {
        let (mut all, mut some) = (Bitmap::default(), Bitmap::default());
        for n in [0, 5, 64, 1000] {
            assert!(all.insert(n));
        }
        assert!(!all.insert(5));
        assert!(some.insert(64));
        assert_eq!(all.missing_from(&some), 3);
        assert_eq!(some.missing_from(&all), 0);
        assert_eq!(Bitmap::default().missing_from(&all), 0);
        assert_eq!(all.missing(&some), vec![0, 5, 1000]);
    }
}
