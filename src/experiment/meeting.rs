//! Processes of a test as threads that meet at each collective (an
//! `engine::Exchange`), for the tests of what the processes of an MPI run
//! do together; a process left waiting fails its test instead of hanging
//! it. Test code only: it must not be used by anything that runs.

use crate::engine::Exchange;
use crate::wire;

/// `size` processes as threads of this test, meeting at each
/// collective; a process that waits 20 s for the others fails the test
/// (a process that left without entering a collective the others
/// entered) instead of hanging it.
pub(crate) struct Meeting {
    size: usize,
    state: std::sync::Mutex<Round>,
    turn: std::sync::Condvar,
}

/// A meeting's collectives so far, the messages of the one under way
/// and those of the last one completed.
type Round = (u64, Vec<Option<Vec<u8>>>, Vec<Vec<u8>>);

/// One process of a [`Meeting`].
pub(crate) struct Member<'m>(&'m Meeting, usize);

impl Meeting {
    /// `size` processes, none arrived yet.
    pub(crate) fn new(size: usize) -> Meeting {
        Meeting {
            size,
            state: std::sync::Mutex::new((0, vec![None; size], Vec::new())),
            turn: std::sync::Condvar::new(),
        }
    }

    /// Runs `each(member)` on every process at once; their results in
    /// rank order.
    pub(crate) fn run<R: Send>(&self, each: impl Fn(&Member<'_>) -> R + Sync) -> Vec<R> {
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..self.size)
                .map(|r| {
                    s.spawn({
                        let each = &each;
                        move || each(&Member(self, r))
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("a process panicked"))
                .collect()
        })
    }
}

impl Exchange for Member<'_> {
    fn rank(&self) -> usize {
        self.1
    }
    fn size(&self) -> usize {
        self.0.size
    }
    fn sum_u64(&self, buf: &mut [u64]) {
        let all = self.all_gather(&wire::encode(&buf.to_vec()).unwrap());
        buf.fill(0);
        // MPI's sum of 64-bit words wraps, and the engine relies on it (a
        // day's negative changes travel as `d as u64`): so does this one.
        for part in &all {
            for (x, y) in buf.iter_mut().zip(wire::decode::<Vec<u64>>(part).unwrap()) {
                *x = x.wrapping_add(y);
            }
        }
    }
    fn all_gather(&self, local: &[u8]) -> Vec<Vec<u8>> {
        let (m, wait) = (self.0, std::time::Duration::from_secs(20));
        let mut st = m.state.lock().unwrap();
        let round = st.0;
        st.1[self.1] = Some(local.to_vec());
        if st.1.iter().all(Option::is_some) {
            st.2 = st.1.iter_mut().map(|x| x.take().unwrap()).collect();
            st.0 += 1;
            m.turn.notify_all();
        }
        while st.0 == round {
            let (next, timeout) = m.turn.wait_timeout(st, wait).unwrap();
            st = next;
            assert!(
                !timeout.timed_out() || st.0 != round,
                "process {} waited at a collective that another process never reached",
                self.1
            );
        }
        st.2.clone()
    }
    fn gather_to_root(&self, local: &[u8]) -> Vec<Vec<u8>> {
        let all = self.all_gather(local);
        if self.1 == 0 {
            all
        } else {
            Vec::new()
        }
    }
}
