"""Reading and validating tabular input files (CSV, Excel, Parquet).

This is the one place where user files enter carbonpeak.  Readers keep the row number a person
sees in a spreadsheet (header = row 1) so that every error names file, row and field.
"""

from carbonpeak.io.tables import ROW_COL, read_table
from carbonpeak.io.validate import Column, TableSpec, validate_table

__all__ = ["ROW_COL", "Column", "TableSpec", "read_table", "validate_table"]
