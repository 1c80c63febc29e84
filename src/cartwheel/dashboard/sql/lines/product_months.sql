{{ include month_sums key=product_id lines=dashboard_lines }}
