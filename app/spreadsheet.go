package app

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"strconv"
	"time"

	"github.com/xuri/excelize/v2"
)

// sheet is rows the portal exports, as CSV or as an Excel worksheet: a header row, then one row of
// cells per line. A cell is a string, an int, a float64 or a time.Time (a calendar date at midnight UTC;
// a zero date is left blank).
type sheet struct {
	Name    string // the worksheet's name (Excel allows 31 characters)
	Columns []string
	Widths  []float64 // column widths in characters; nil for Excel's default
	Rows    [][]any
}

// csvCell writes a cell as CSV holds it: dates as YYYY-MM-DD, text made safe from formula injection.
func csvCell(cell any) string {
	switch v := cell.(type) {
	case time.Time:
		if v.IsZero() {
			return ""
		}
		return v.Format(time.DateOnly)
	case int:
		return strconv.Itoa(v)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case nil:
		return ""
	default:
		return csvSafe(fmt.Sprint(v))
	}
}

// csvFile writes a sheet as CSV: UTF-8 with a byte order mark (so that Excel reads £ and Welsh letters
// correctly), CRLF line ends, a header row, and every cell as csvCell writes it.
func csvFile(s sheet) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString("\uFEFF")
	w := csv.NewWriter(&buf)
	w.UseCRLF = true
	if err := w.Write(s.Columns); err != nil {
		return nil, fmt.Errorf("write CSV: %w", err)
	}
	rec := make([]string, len(s.Columns))
	for _, row := range s.Rows {
		for i := range rec {
			rec[i] = ""
			if i < len(row) {
				rec[i] = csvCell(row[i])
			}
		}
		if err := w.Write(rec); err != nil {
			return nil, fmt.Errorf("write CSV: %w", err)
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return nil, fmt.Errorf("write CSV: %w", err)
	}
	return buf.Bytes(), nil
}

// workbook writes sheets as an Excel workbook, one worksheet each: a bold header row that stays in view,
// sized columns, an autofilter, and dates as real dates ("21 Nov 2026"). Excel never runs a text cell as
// a formula, so text is written as it is.
func workbook(props excelize.DocProperties, sheets ...sheet) ([]byte, error) {
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetDocProps(&props); err != nil {
		return nil, err
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}, Alignment: &excelize.Alignment{WrapText: true, Vertical: "top"}})
	if err != nil {
		return nil, err
	}
	dateFormat := "d mmm yyyy"
	dateStyle, err := f.NewStyle(&excelize.Style{CustomNumFmt: &dateFormat})
	if err != nil {
		return nil, err
	}
	for i, s := range sheets {
		if i == 0 {
			err = f.SetSheetName("Sheet1", s.Name)
		} else {
			_, err = f.NewSheet(s.Name)
		}
		if err != nil {
			return nil, err
		}
		if err := writeSheet(f, s, bold, dateStyle); err != nil {
			return nil, fmt.Errorf("worksheet %q: %w", s.Name, err)
		}
	}
	buf, err := f.WriteToBuffer()
	if err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func writeSheet(f *excelize.File, s sheet, bold, dateStyle int) error {
	header := make([]any, len(s.Columns))
	for i, h := range s.Columns {
		header[i] = h
	}
	if err := f.SetSheetRow(s.Name, "A1", &header); err != nil {
		return err
	}
	last, err := excelize.CoordinatesToCellName(max(len(s.Columns), 1), 1)
	if err != nil {
		return err
	}
	if err := f.SetCellStyle(s.Name, "A1", last, bold); err != nil {
		return err
	}
	for r, row := range s.Rows {
		cells := make([]any, len(row))
		for j, cell := range row {
			cells[j] = cell
			if d, ok := cell.(time.Time); ok && d.IsZero() {
				cells[j] = nil
			}
		}
		first, err := excelize.CoordinatesToCellName(1, r+2)
		if err != nil {
			return err
		}
		if err := f.SetSheetRow(s.Name, first, &cells); err != nil {
			return err
		}
		for j, cell := range row {
			if _, ok := cell.(time.Time); ok {
				name, err := excelize.CoordinatesToCellName(j+1, r+2)
				if err != nil {
					return err
				}
				if err := f.SetCellStyle(s.Name, name, name, dateStyle); err != nil {
					return err
				}
			}
		}
	}
	for i, w := range s.Widths {
		col, err := excelize.ColumnNumberToName(i + 1)
		if err != nil {
			return err
		}
		if err := f.SetColWidth(s.Name, col, col, w); err != nil {
			return err
		}
	}
	if err := f.SetPanes(s.Name, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft",
		Selection: []excelize.Selection{{SQRef: "A2", ActiveCell: "A2", Pane: "bottomLeft"}}}); err != nil {
		return err
	}
	lastCell, err := excelize.CoordinatesToCellName(max(len(s.Columns), 1), len(s.Rows)+1)
	if err != nil {
		return err
	}
	return f.AutoFilter(s.Name, "A1:"+lastCell, nil)
}
