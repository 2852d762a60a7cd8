package customhandler

import (
	"io"
	"os"

	"github.com/jwtgate/jwtgate/shared/logging"
)

// logSink is what the handler binary writes its log through.
func logSink(f *os.File) io.WriteCloser { return logging.NewBufferedWriter(f) }
