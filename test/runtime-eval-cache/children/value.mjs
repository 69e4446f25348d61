// The value the SIGKILL child stores under a key: regenerable, so the test can check every record it reads back.
// Large (≈ 6 KB) so that a kill can land inside a write.
export function valueFor(key) {
  return { logprob: -(key.length % 97) / 7, isGreedy: key.length % 2 === 0, pad: key.repeat(200) };
}
