<?php
/*
 * Plugin Name: greyflux for Akismet
 * Description: Sends the Akismet plugin's API calls to greyflux instead of rest.akismet.com.
 * Version: 1.0
 *
 * A must-use plugin: copy it to wp-content/mu-plugins/ (Debian:
 * /var/lib/wordpress/wp-content/mu-plugins/) and set greyflux's address in wp-config.php:
 *     define( 'GREYFLUX_AKISMET_URL', 'http://127.0.0.1:8080' );
 * The Akismet plugin stays as it is. Only requests for rest.akismet.com (by name, or by
 * address with that Host header) are sent to greyflux, same method, headers and body, over
 * plain HTTP; WordPress's other outgoing requests are left alone. Without the constant it
 * does nothing.
 */
add_filter(
	'pre_http_request',
	function ( $pre, $args, $url ) {
		if ( false !== $pre || ! defined( 'GREYFLUX_AKISMET_URL' ) ) {
			return $pre;
		}
		$akismet = static function ( $host ) {
			$host = strtolower( (string) $host );
			return 'rest.akismet.com' === $host || '.rest.akismet.com' === substr( $host, -17 );
		};
		$host_header = isset( $args['headers']['Host'] ) ? $args['headers']['Host'] : '';
		if ( ! $akismet( wp_parse_url( $url, PHP_URL_HOST ) ) && ! $akismet( $host_header ) ) {
			return $pre;
		}
		unset( $args['headers']['Host'] );  // the forwarded request names greyflux's host
		$path  = (string) wp_parse_url( $url, PHP_URL_PATH );
		$query = (string) wp_parse_url( $url, PHP_URL_QUERY );
		$to    = untrailingslashit( GREYFLUX_AKISMET_URL ) . $path . ( '' === $query ? '' : '?' . $query );
		return wp_remote_request( $to, $args );
	},
	10,
	3
);
