package arenakit.model.layers;

/**
 * Rotary position embeddings: one inverse frequency per pair of head dimensions, {@code theta^(-2i / dim)}, and
 * transformers' frequency scalings ({@code rope_scaling} / {@code rope_parameters}). Computed in float32 step for
 * step as transformers' {@code ROPE_INIT_FUNCTIONS}, so angles match to the last bit that matters.
 *
 * @param theta the base ({@code rope_theta})
 * @param dim the rotated dimensions per head (head_dim; even)
 */
public record Rope(double theta, int dim, Scaling scaling) {

    /** A frequency scaling. */
    public sealed interface Scaling permits Default, Linear, Llama3 {
        /** The {@code rope_type} transformers writes for it. */
        String type();
    }

    /** No scaling ({@code rope_type} "default", or no {@code rope_scaling} at all). */
    public record Default() implements Scaling {
        @Override
        public String type() {
            return "default";
        }
    }

    /** Position interpolation: every frequency divided by {@code factor}. */
    public record Linear(double factor) implements Scaling {
        public Linear {
            requirePositive("factor", factor);
        }

        @Override
        public String type() {
            return "linear";
        }
    }

    /**
     * Llama-3.1's scaling: wavelengths longer than {@code original / low} are divided by {@code factor}, shorter than
     * {@code original / high} kept, and those between interpolated smoothly.
     */
    public record Llama3(double factor, double lowFreqFactor, double highFreqFactor, int originalMaxPositionEmbeddings)
            implements Scaling {
        public Llama3 {
            requirePositive("factor", factor);
            requirePositive("low_freq_factor", lowFreqFactor);
            requirePositive("original_max_position_embeddings", originalMaxPositionEmbeddings);
            if (!(highFreqFactor > lowFreqFactor)) {
                throw new IllegalArgumentException("rope_scaling high_freq_factor (" + highFreqFactor
                        + ") must be greater than low_freq_factor (" + lowFreqFactor + ")");
            }
        }

        @Override
        public String type() {
            return "llama3";
        }
    }

    public static final Scaling NONE = new Default();

    public Rope {
        requirePositive("rope_theta", theta);
        if (dim <= 0 || dim % 2 != 0) {
            throw new IllegalArgumentException("rotary dimension (head_dim) must be even and positive, got " + dim);
        }
        if (scaling == null) {
            scaling = NONE;
        }
    }

    private static void requirePositive(String field, double v) {
        if (!(v > 0) || Double.isInfinite(v)) {
            throw new IllegalArgumentException("rope " + field + " must be a positive number, got " + v);
        }
    }

    /** The {@code dim / 2} inverse frequencies, scaled. */
    public float[] inverseFrequencies() {
        int half = dim / 2;
        float[] inv = new float[half];
        for (int i = 0; i < half; i++) {
            // transformers: 1.0 / (base ** (arange(0, dim, 2).float() / dim)), all in float32
            inv[i] = 1.0f / (float) Math.pow(theta, (float) (2 * i) / (float) dim);
        }
        if (scaling instanceof Linear l) {
            for (int i = 0; i < half; i++) {
                inv[i] /= (float) l.factor();
            }
        } else if (scaling instanceof Llama3 s) {
            float factor = (float) s.factor();
            float low = (float) s.lowFreqFactor();
            float lowWavelen = (float) (s.originalMaxPositionEmbeddings() / s.lowFreqFactor());
            float highWavelen = (float) (s.originalMaxPositionEmbeddings() / s.highFreqFactor());
            float range = (float) (s.highFreqFactor() - s.lowFreqFactor());
            float old = (float) s.originalMaxPositionEmbeddings();
            float twoPi = (float) (2 * Math.PI);
            for (int i = 0; i < half; i++) {
                float wavelen = twoPi / inv[i];
                if (wavelen > lowWavelen) {
                    inv[i] = inv[i] / factor; // low frequencies: interpolated
                } else if (!(wavelen < highWavelen)) { // medium: a smooth mix of both
                    float smooth = (old / wavelen - low) / range;
                    inv[i] = (1 - smooth) * inv[i] / factor + smooth * inv[i];
                } // high frequencies: kept
            }
        }
        return inv;
    }
}
