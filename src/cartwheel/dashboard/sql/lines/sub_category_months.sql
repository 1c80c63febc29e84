{{ include month_sums key=sub_category lines=dashboard_lines }}
