{{ include category_day_sums lines=dashboard_lines }}
