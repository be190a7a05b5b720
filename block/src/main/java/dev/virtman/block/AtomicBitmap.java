package dev.virtman.block;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * A fixed-size set of bits that many threads set and test without a lock, with a running count of
 * the bits set: the in-memory half of a {@link BitmapFile}. Bit {@code i} is bit {@code i mod 64}
 * (least significant first) of word {@code i / 64}, the same layout the file uses.
 */
public final class AtomicBitmap {
    private static final int WORD_SHIFT = 6;

    private final AtomicLongArray words;
    private final AtomicInteger cardinality = new AtomicInteger();

    /** An all-clear bitmap of {@code bits} bits. */
    public AtomicBitmap(final int bits) {
        this.words = new AtomicLongArray(BitmapFile.wordCount(bits));
    }

    private AtomicBitmap(final long[] words) {
        this.words = new AtomicLongArray(words);
        int count = 0;
        for (long w : words) {
            count += Long.bitCount(w);
        }
        cardinality.set(count);
    }

    /** A bitmap holding {@code words} as they are (the caller has cleared bits past the end). */
    static AtomicBitmap ofWords(final long[] words) {
        return new AtomicBitmap(words.clone());
    }

    /** An independent copy of the bits as they are now. */
    public AtomicBitmap copy() {
        long[] snapshot = new long[words.length()];
        for (int w = 0; w < snapshot.length; w++) {
            snapshot[w] = words.get(w);
        }
        return new AtomicBitmap(snapshot);
    }

    public boolean get(final int index) {
        return (words.get(index >>> WORD_SHIFT) & (1L << index)) != 0;
    }

    /** Sets bit {@code index}; true if it was clear. */
    public boolean set(final int index) {
        long mask = 1L << index;
        long old = words.getAndUpdate(index >>> WORD_SHIFT, w -> w | mask);
        if ((old & mask) != 0) {
            return false;
        }
        cardinality.incrementAndGet();
        return true;
    }

    /** Clears bit {@code index}; true if it was set. */
    public boolean clear(final int index) {
        long mask = 1L << index;
        long old = words.getAndUpdate(index >>> WORD_SHIFT, w -> w & ~mask);
        if ((old & mask) == 0) {
            return false;
        }
        cardinality.decrementAndGet();
        return true;
    }

    /** Number of bits set. */
    public int cardinality() {
        return cardinality.get();
    }

    /** Word {@code w}: bits 64w .. 64w+63. */
    long word(final int w) {
        return words.get(w);
    }

    /** The index of the word that holds bit {@code index}. */
    static int wordOf(final int index) {
        return index >>> WORD_SHIFT;
    }
}
