{{ include sales_cell_sums lines=dashboard_lines }}
