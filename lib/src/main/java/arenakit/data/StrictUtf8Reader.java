package arenakit.data;

import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Decodes a file as strict UTF-8: invalid bytes are a {@link DataException} naming the line, never a silent
 * U+FFFD (a Java {@code InputStreamReader} would replace them without a trace). Also applies two counted repairs:
 * a leading byte order mark is skipped and CRLF line ends become LF.
 */
final class StrictUtf8Reader extends Reader {
    private final InputStream in;
    private final Path file;
    private final Repairs repairs;
    private final CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
    private final ByteBuffer bytes = ByteBuffer.allocate(1 << 16);
    private final CharBuffer chars = CharBuffer.allocate(1 << 16);
    private long newlines;
    private long bytesBefore;
    private boolean eof;
    private boolean started;
    private boolean pendingCr;

    StrictUtf8Reader(InputStream in, Path file, Repairs repairs) {
        this.in = in;
        this.file = file;
        this.repairs = repairs;
        bytes.flip();
        chars.flip();
    }

    @Override
    public int read(char[] cbuf, int off, int len) throws IOException {
        int n = 0;
        while (n < len) {
            if (!chars.hasRemaining() && !fill()) {
                break;
            }
            char c = chars.get();
            if (pendingCr) {
                pendingCr = false;
                if (c == '\n') {
                    repairs.add(Repairs.Kind.CRLF_LINE_END, 1, "line " + (newlines + 1));
                } else {
                    cbuf[off + n++] = '\r';
                    if (n == len) {
                        chars.position(chars.position() - 1);
                        break;
                    }
                }
            }
            if (c == '\r') {
                pendingCr = true;
                continue;
            }
            if (c == '\n') {
                newlines++;
            }
            cbuf[off + n++] = c;
        }
        if (n == 0 && pendingCr && eof && !chars.hasRemaining()) {
            pendingCr = false;
            cbuf[off] = '\r';
            return 1;
        }
        return n == 0 ? -1 : n;
    }

    /** Decodes more characters; false at end of input. */
    private boolean fill() throws IOException {
        chars.clear();
        while (chars.position() == 0) {
            if (!bytes.hasRemaining() && eof) {
                break;
            }
            if (!eof) {
                bytes.compact();
                int r = in.read(bytes.array(), bytes.position(), bytes.remaining());
                if (r < 0) {
                    eof = true;
                } else {
                    bytes.position(bytes.position() + r);
                }
                bytes.flip();
            }
            int before = bytes.position();
            CoderResult res = decoder.decode(bytes, chars, eof);
            if (res.isError()) {
                chars.flip();
                long lineAtError = newlines + countNewlines(chars) + 1;
                throw new DataException(file, lineAtError, null, null, String.format(
                        "invalid UTF-8 (%d byte(s) at byte offset %d); save the file as UTF-8",
                        res.length(), bytesBefore + bytes.position() - before));
            }
            bytesBefore += bytes.position() - before;
            if (eof && !bytes.hasRemaining()) {
                decoder.flush(chars);
                break;
            }
        }
        chars.flip();
        if (!started && chars.hasRemaining()) {
            started = true;
            if (chars.get(chars.position()) == '\uFEFF') {
                chars.get();
                repairs.add(Repairs.Kind.BOM_STRIPPED, 1, "line 1");
            }
        }
        return chars.hasRemaining();
    }

    private static long countNewlines(CharBuffer buf) {
        long n = 0;
        for (int i = buf.position(); i < buf.limit(); i++) {
            if (buf.get(i) == '\n') {
                n++;
            }
        }
        return n;
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
