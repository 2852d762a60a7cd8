package customhandler

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
)

// jsonStream reads a JSON document value by value from a stream, keeping
// only the values it is asked to capture: an invocation payload carries the
// caller's whole request body (the Functions host accepts up to 100 MB),
// which no decision needs. Skipped values are checked for structure
// (strings, nesting, scalar characters); captured ones are decoded in full
// by encoding/json afterwards.
type jsonStream struct {
	r *bufio.Reader
}

// maxJSONDepth bounds nesting in skipped values.
const maxJSONDepth = 512

// maxKeyBytes bounds an object key; a longer key is read through and
// matches no field.
const maxKeyBytes = 256

var errJSONSyntax = errors.New("syntax error")

func newJSONStream(r io.Reader) *jsonStream {
	return &jsonStream{r: bufio.NewReaderSize(r, 64<<10)}
}

// next returns the next byte that is not JSON white space.
func (s *jsonStream) next() (byte, error) {
	for {
		c, err := s.r.ReadByte()
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return 0, err
		}
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		}
		return c, nil
	}
}

// end checks that only white space follows the document.
func (s *jsonStream) end() error {
	_, err := s.next()
	if err == io.ErrUnexpectedEOF {
		return nil
	}
	if err != nil {
		return err
	}
	return payloadError("data after the JSON payload")
}

// capture collects a value's bytes up to limit; over reports that the
// value did not fit (the rest was read through, not kept). Bytes are kept
// in fixed chunks, so a value that turns out too large costs at most limit
// bytes, and one that fits is joined once.
type capture struct {
	chunks [][]byte
	n      int
	limit  int
	over   bool
}

const captureChunk = 32 << 10

func (c *capture) add(b byte) {
	if c == nil || c.over {
		return
	}
	if c.n >= c.limit {
		c.over, c.chunks, c.n = true, nil, 0 // release what was kept
		return
	}
	last := len(c.chunks) - 1
	if last < 0 || len(c.chunks[last]) == cap(c.chunks[last]) {
		c.chunks = append(c.chunks, make([]byte, 0, min(captureChunk, c.limit-c.n)))
		last++
	}
	c.chunks[last] = append(c.chunks[last], b)
	c.n++
}

// bytes returns the captured value.
func (c *capture) bytes() []byte {
	if len(c.chunks) == 1 {
		return c.chunks[0]
	}
	return bytes.Join(c.chunks, nil)
}

// value reads one value, keeping its bytes in c (nil: skip it).
func (s *jsonStream) value(c *capture) error {
	first, err := s.next()
	if err != nil {
		return err
	}
	switch first {
	case '"':
		c.add(first)
		return s.stringRest(c)
	case '{', '[':
		return s.container(first, c)
	}
	return s.scalar(first, c)
}

// stringRest reads a string after its opening quote.
func (s *jsonStream) stringRest(c *capture) error {
	for {
		if c == nil { // skipping: pass over plain bytes a buffer at a time
			if n := s.r.Buffered(); n > 0 {
				buf, _ := s.r.Peek(n)
				if k := plainRun(buf); k > 0 {
					_, _ = s.r.Discard(k)
					continue
				}
			}
		}
		b, err := s.r.ReadByte()
		if err != nil {
			return io.ErrUnexpectedEOF
		}
		if b < 0x20 {
			return errJSONSyntax
		}
		c.add(b)
		switch b {
		case '"':
			return nil
		case '\\':
			e, err := s.r.ReadByte()
			if err != nil {
				return io.ErrUnexpectedEOF
			}
			c.add(e)
		}
	}
}

// container reads an object or array after its opening bracket, without
// recursion: an explicit stack of closers bounds the depth.
func (s *jsonStream) container(open byte, c *capture) error {
	c.add(open)
	stack := []byte{closer(open)}
	for len(stack) > 0 {
		b, err := s.r.ReadByte()
		if err != nil {
			return io.ErrUnexpectedEOF
		}
		c.add(b)
		switch {
		case b == '"':
			if err := s.stringRest(c); err != nil {
				return err
			}
		case b == '{' || b == '[':
			if len(stack) >= maxJSONDepth {
				return errors.New("nested too deeply")
			}
			stack = append(stack, closer(b))
		case b == '}' || b == ']':
			if stack[len(stack)-1] != b {
				return errJSONSyntax
			}
			stack = stack[:len(stack)-1]
		case b == ',' || b == ':' || isSpace(b) || isScalarByte(b):
		default:
			return errJSONSyntax
		}
	}
	return nil
}

// scalar reads a number, true, false or null starting with first.
func (s *jsonStream) scalar(first byte, c *capture) error {
	if !isScalarByte(first) {
		return errJSONSyntax
	}
	c.add(first)
	for {
		b, err := s.r.ReadByte()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if !isScalarByte(b) {
			return s.r.UnreadByte()
		}
		c.add(b)
	}
}

// object reads an object member by member: member is called with each key
// (case as sent) and must read the member's value. null is read as no
// object (present false).
func (s *jsonStream) object(member func(key string) error) (present bool, err error) {
	b, err := s.next()
	if err != nil {
		return false, err
	}
	if b == 'n' {
		return false, s.literalRest("ull")
	}
	if b != '{' {
		return false, errJSONSyntax
	}
	for first := true; ; first = false {
		b, err := s.next()
		if err != nil {
			return true, err
		}
		if b == '}' {
			return true, nil
		}
		if !first {
			if b != ',' {
				return true, errJSONSyntax
			}
			if b, err = s.next(); err != nil {
				return true, err
			}
		}
		if b != '"' {
			return true, errJSONSyntax
		}
		key := capture{limit: maxKeyBytes}
		key.add('"')
		if err := s.stringRest(&key); err != nil {
			return true, err
		}
		if b, err = s.next(); err != nil {
			return true, err
		}
		if b != ':' {
			return true, errJSONSyntax
		}
		if err := member(decodeKey(&key)); err != nil {
			return true, err
		}
	}
}

// literalRest reads the rest of a literal (after its first byte).
func (s *jsonStream) literalRest(rest string) error {
	for i := 0; i < len(rest); i++ {
		b, err := s.r.ReadByte()
		if err != nil {
			return io.ErrUnexpectedEOF
		}
		if b != rest[i] {
			return errJSONSyntax
		}
	}
	return nil
}

// decodeKey returns a captured key without its quotes, escapes decoded; a
// key too long to keep matches no field ("").
func decodeKey(k *capture) string {
	raw := k.bytes()
	if k.over || len(raw) < 2 {
		return ""
	}
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw[1 : len(raw)-1])
	}
	var key string
	if json.Unmarshal(raw, &key) != nil {
		return ""
	}
	return key
}

// plainRun is the length of b's prefix without a quote, a backslash or a
// control byte: string content that needs no look.
func plainRun(b []byte) int {
	for i, c := range b {
		if c == '"' || c == '\\' || c < 0x20 {
			return i
		}
	}
	return len(b)
}

func closer(open byte) byte {
	if open == '{' {
		return '}'
	}
	return ']'
}

func isSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\n' || b == '\r' }

// isScalarByte reports bytes that may appear in a number or literal.
func isScalarByte(b byte) bool {
	return b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b == '-' || b == '+' || b == '.'
}
